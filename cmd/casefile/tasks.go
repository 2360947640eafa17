package main

import (
	"github.com/council/casefile"
	"github.com/council/casefile/tickets"
)

// registerTasks registers the background task handlers on the workers.
func (a *app) registerTasks() {
	a.workers.Handle(casefile.TaskExportBuild, a.exportService().Handle)
	a.workers.Handle(casefile.TaskStorageReconcile, a.reconcile)
	sweeper := a.retentionSweeper()
	a.workers.Handle(casefile.TaskRetentionRun, a.retentionRunner().Handle)
	a.workers.Handle(casefile.TaskRetentionSweep, sweeper.Handle)
	a.workers.Handle(casefile.TaskRetentionSync, sweeper.HandleSync)
	a.workers.Handle(casefile.TaskTicketProcess, (&tickets.Processor{Store: a.db, Blobs: blobs{a.s3}}).Handle)
}
