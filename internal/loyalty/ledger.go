package loyalty

import "time"

// Accounts of the ledger. A member has an available, a pending and an owed
// account; the program has one each for points issued, redeemed, expired and
// adjusted; a budgeted rule has its own. Postings of an entry sum to zero:
// issuing 100 points credits the member's pending or available account +100
// and debits issued −100, so system accounts run negative and the sum of
// member balances is what the brand owes.
const (
	AccountAvailable = "available" // member: spendable
	AccountPending   = "pending"   // member: inside the return window
	AccountOwed      = "owed"      // member: clawed back after being spent (≤ 0)
	AccountHeld      = "held"      // member: held for a payment not yet captured

	AccountIssued     = "issued"     // program: source of earned points
	AccountRedeemed   = "redeemed"   // program: sink of spent points
	AccountExpired    = "expired"    // program: sink of expired points
	AccountAdjustment = "adjustment" // program: manual corrections
	AccountBudget     = "budget"     // rule: a campaign's points
	AccountFunding    = "funding"    // program: source of campaign budgets
)

// Entry kinds.
const (
	EntryEarn     = "earn"     // a purchase or an event earned points
	EntryMature   = "mature"   // pending points became available
	EntryClawback = "clawback" // a return took back what its lines earned
	EntryAdjust   = "adjust"   // a manual correction
	EntryExpire   = "expire"   // a lot reached its expiry
	EntryRedeem   = "redeem"   // points spent on a reward or as a tender
	EntryRestore  = "restore"  // a reversal gave spent points back to their lots
	EntryFund     = "fund"     // a campaign budget was funded
	EntryHold     = "hold"     // points held as a tender, not yet captured
	EntryCapture  = "capture"  // held points spent
	EntryRelease  = "release"  // held points given back to their lots
	EntryMerge    = "merge"    // a merged member's points moved to the survivor
	EntryUnmerge  = "unmerge"  // an unmerge moved them back
)

// Account names one ledger account: a member's (Owner is the customer id), a
// rule's budget (Owner is the rule id) or the program's (Owner "").
type Account struct {
	Kind  string
	Owner string
}

// Posting is one line of an entry.
type Posting struct {
	Account Account
	Points  int64 // + credit to the account, − debit
}

// Entry is a journal entry: balanced postings with why and who.
type Entry struct {
	TenantID      string
	ID            string
	Kind          string
	CustomerID    string
	NaturalKey    string // unique per tenant: the same fact never posts twice
	TransactionID string
	Reason        string
	Actor         string
	Postings      []Posting
	Awards        []Award // what an earn entry gave, by source
	OccurredAt    time.Time
	CreatedAt     time.Time
}

// Balanced reports whether the postings sum to zero.
func Balanced(ps []Posting) bool {
	var sum int64
	for _, p := range ps {
		sum += p.Points
	}
	return sum == 0
}
