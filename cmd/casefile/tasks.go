package main

import (
	"context"
	"errors"

	"github.com/council/casefile"
	"github.com/council/casefile/storage/s3"
	"github.com/council/casefile/tickets"
	"github.com/council/casefile/workers"
)

// registerTasks registers the background task handlers on the workers.
func (a *app) registerTasks() {
	a.workers.Handle(casefile.TaskExportBuild, a.exportService().Handle)
	a.workers.Handle(casefile.TaskDisclosureBuild, a.disclosureService().Handle)
	tp := a.ticketProcessor()
	// The periodic reconciliation: old export bundles expired and retired
	// ones destroyed, the audit log's heads anchored in the bucket, approved
	// tickets whose queued task was lost queued again, objects against rows.
	a.workers.Handle(casefile.TaskStorageReconcile, func(ctx context.Context, p []byte) error {
		exports := a.exportService().Sweep(ctx)
		_, anchored := writeAnchor(ctx, a.anchorer(), a.db)
		return errors.Join(exports, anchored, tp.Sweep(ctx), a.reconcile(ctx, p), a.requeueText(ctx))
	})
	a.workers.Handle(casefile.TaskDocumentExtract, a.extractTask().Handle)
	sweeper := a.retentionSweeper()
	a.workers.Handle(casefile.TaskRetentionRun, a.retentionRunner().Handle)
	a.workers.Handle(casefile.TaskRetentionSweep, sweeper.Handle)
	a.workers.Handle(casefile.TaskRetentionSync, sweeper.HandleSync)
	a.workers.Handle(casefile.TaskTicketProcess, tp.Handle)
}

func (a *app) ticketProcessor() *tickets.Processor {
	return &tickets.Processor{Store: a.db, Blobs: s3.Blobs{S: a.records}, FinalAttempt: workers.FinalAttempt, Log: a.log,
		AfterWithdrawal: a.exportService().DestroyRetired}
}
