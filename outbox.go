package casefile

import "context"

// Task types: background work, named "noun:verb" as asynq's examples do.
const (
	TaskTicketProcess    = "ticket:process"    // carry out an approved ICT ticket
	TaskRetentionRun     = "retention:run"     // carry out a requested retention run
	TaskRetentionSweep   = "retention:sweep"   // the periodic sweep: extend locks, start the daily run
	TaskExportBuild      = "export:build"      // build a disclosure bundle
	TaskStorageReconcile = "storage:reconcile" // the periodic reconciliation of objects and rows
	TaskRetentionSync    = "retention:sync"    // bring Object Lock retention and legal holds in line
	TaskDocumentExtract  = "document:extract"  // extract the text of a stored document (OCR included)
)

// OutboxItem is background work written in the same transaction as the
// change that needs it, waiting to be handed to the queue.
type OutboxItem struct {
	ID       int64
	TaskType string
	TaskID   string // the queue's task id: enqueuing the same item twice counts once
	Payload  []byte
}

// Outbox hands pending items to the queue.
type Outbox interface {
	// RelayOutbox passes up to limit pending items, oldest first, to send;
	// each item send accepts is marked enqueued. It returns how many were
	// sent. Concurrent relays never send the same item at once.
	RelayOutbox(ctx context.Context, limit int, send func(*OutboxItem) error) (int, error)
}
