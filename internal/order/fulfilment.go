package order

import (
	"slices"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
)

// Shipment states (docs/orders.md draws the machine).
const (
	Allocated      = "allocated"
	Picking        = "picking"
	Packed         = "packed"
	Shipped        = "shipped"
	Delivered      = "delivered"
	ReadyForPickup = "ready_for_pickup"
	PickedUp       = "picked_up"
	Cancelled      = "cancelled"
)

// transitions lists, per delivery method, the states a shipment may move to
// from each state. Anything else is refused.
var transitions = map[string]map[string][]string{
	ShipToAddress: {
		Allocated: {Picking, Packed, Cancelled},
		Picking:   {Packed, Cancelled},
		Packed:    {Shipped, Cancelled},
		Shipped:   {Delivered},
	},
	ClickCollect: {
		Allocated:      {Picking, Packed, ReadyForPickup, Cancelled},
		Picking:        {Packed, ReadyForPickup, Cancelled},
		Packed:         {ReadyForPickup, Cancelled},
		ReadyForPickup: {PickedUp, Cancelled},
	},
	ShipToStore: {
		Allocated:      {Picking, Packed, Cancelled},
		Picking:        {Packed, Cancelled},
		Packed:         {Shipped, Cancelled},
		Shipped:        {ReadyForPickup},
		ReadyForPickup: {PickedUp, Cancelled},
	},
	TakeNow: {},
}

// Next lists the states a shipment of method may move to from state.
func Next(method, state string) []string { return transitions[method][state] }

// Transition checks a shipment's move; a refused move is a Conflict that
// says which moves are allowed.
func Transition(method, from, to string) error {
	next := Next(method, from)
	if slices.Contains(next, to) {
		return nil
	}
	if len(next) == 0 {
		return apperr.New(apperr.Conflict, "a %s shipment that is %s cannot change any more", method, from)
	}
	return apperr.New(apperr.Conflict, "a %s shipment cannot go from %s to %s; from %s it may go to %s", method, from, to, from, strings.Join(next, ", "))
}

// Done reports whether the customer has the goods of a shipment in state.
func Done(state string) bool { return state == Delivered || state == PickedUp }

// LeavesLocation reports whether a shipment's goods leave its location
// when it moves to state: shipped, or handed over at the store.
func LeavesLocation(method, to string) bool {
	switch method {
	case ShipToAddress, ShipToStore:
		return to == Shipped
	case ClickCollect:
		return to == PickedUp
	case TakeNow:
		return to == PickedUp
	}
	return false
}

// Order states, derived from the shipments and the payment.
const (
	OrderAwaitingPayment = "awaiting_payment"
	OrderOpen            = "open"
	OrderPartFulfilled   = "partially_fulfilled"
	OrderFulfilled       = "fulfilled"
	OrderCancelled       = "cancelled"
)

// Status derives an order's status from its shipments' states.
func Status(paid bool, shipmentStates []string) string {
	if len(shipmentStates) > 0 && !slices.ContainsFunc(shipmentStates, func(s string) bool { return s != Cancelled }) {
		return OrderCancelled
	}
	if !paid {
		return OrderAwaitingPayment
	}
	done, live := 0, 0
	for _, s := range shipmentStates {
		if s == Cancelled {
			continue
		}
		live++
		if Done(s) {
			done++
		}
	}
	switch {
	case done == 0:
		return OrderOpen
	case done < live:
		return OrderPartFulfilled
	}
	return OrderFulfilled
}
