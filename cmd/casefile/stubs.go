package main

import (
	"context"
	"fmt"
	"io"
)

func cmdNotesImport(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stderr, "casefile notes import: not built yet")
	return exitError(2)
}

func cmdNotesScan(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stderr, "casefile notes scan: not built yet")
	return exitError(2)
}
