package main

import "github.com/council/casefile"

// registerTasks registers the background task handlers on the workers.
func (a *app) registerTasks() {
	a.workers.Handle(casefile.TaskExportBuild, a.exportService().Handle)
	a.workers.Handle(casefile.TaskStorageReconcile, a.reconcile)
}
