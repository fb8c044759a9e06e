/**
 * The composition root: {@link io.safegrid.gateway.wiring.Gateway} builds and starts every part
 * of the running gateway from a loaded configuration, in dependency order, and stops them in
 * reverse. Small adapters between the parts' interfaces live here too (site to rule-engine
 * directory, site grid to dashboard tree, rule transitions to the ledger).
 */
package io.safegrid.gateway.wiring;
