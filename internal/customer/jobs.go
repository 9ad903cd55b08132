package customer

// ErasedJob is the follow-up of an erasure: personal data that outlives the
// customer row (old values in the audit log, cached API responses) is
// scrubbed. It is enqueued in the erasure's own transaction.
type ErasedJob struct {
	TenantID    string   `json:"tenant_id"`
	CustomerIDs []string `json:"customer_ids"`
}

// Kind names the job for the job queue.
func (ErasedJob) Kind() string { return "customer.erased" }
