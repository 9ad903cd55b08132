// Package order is headless commerce as plain values: carts and their
// edits, the totals of a basket (promotions, coupons, tax computed by a
// pluggable rule, points as a tender), orders and their shipments with the
// fulfilment state machine, and returns with refunds that can never exceed
// what was captured. Storage (sqldb) and HTTP (api) call these functions;
// nothing here touches a database or the network.
package order
