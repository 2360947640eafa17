package main

// registerTasks registers the background task handlers on the workers.
func (a *app) registerTasks() {}
