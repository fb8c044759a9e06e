/** Rate-of-change rules: a metric rising faster than a limit over a time window. */
package io.safegrid.rules.rate;
