/** Threshold rules: levels with severities, hysteresis on the way back, debounce (duration). */
package io.safegrid.rules.threshold;
