package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/council/casefile"
	"github.com/council/casefile/notes"
)

// cliActor is who an operator's command acts as in the audit log.
func cliActor() casefile.Actor {
	name := "operator"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return casefile.Actor{Kind: casefile.ActorCLI, Name: "cli:" + name, Role: casefile.RoleAdmin}
}

// cmdNotesImport imports a legacy notes export: every row is checked first,
// every bad row is reported by line (exit 1, nothing imported), and a good
// file is imported in one transaction. Importing the same file again adds
// nothing.
func cmdNotesImport(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notes import", stderr)
	file := fs.String("csv", "", "the CSV file exported from the case management system (UTF-8, RFC 4180, header row)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: casefile notes import --csv FILE")
		fmt.Fprintln(stderr, "columns: legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body[,corrects_legacy_id,correction_reason]")
		return exitError(2)
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := migrateDB(ctx, cfg, newLogger(cfg, stderr)); err != nil {
		return err
	}
	ctx = casefile.WithActor(ctx, cliActor())
	svc := &notes.Service{Store: db}
	rep, err := svc.Import(ctx, f)
	if err != nil {
		if casefile.ErrorKind(err) == casefile.EInvalid {
			fmt.Fprintf(stdout, "%s: %s; nothing was imported.\n", *file, casefile.ErrorMessage(err))
			return exitError(1)
		}
		return err
	}
	if len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "%s:%d: %s\n", *file, p.Line, p.Msg)
		}
		fmt.Fprintf(stdout, "%d bad row(s); nothing was imported. Fix them and import the file again.\n", len(rep.Problems))
		return exitError(1)
	}
	for _, p := range rep.Pasted {
		fmt.Fprintf(stdout, "%s:%d: legacy note %s (note %s) contains a pasted email (%s); `casefile notes scan --raise-tickets` raises its removal ticket\n",
			*file, p.Line, p.LegacyID, p.NoteID, p.Rule)
	}
	if rep.Imported == 0 && rep.AlreadyImported > 0 {
		fmt.Fprintf(stdout, "nothing new to import: all %d note(s) were imported before\n", rep.AlreadyImported)
	}
	fmt.Fprintf(stdout, "imported %d note(s), %d already imported, %d with pasted emails\n", rep.Imported, rep.AlreadyImported, len(rep.Pasted))
	return nil
}

// cmdNotesScan runs the pasted-email guard over every stored note and prints
// one line per note found, then a summary.
func cmdNotesScan(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notes scan", stderr)
	raise := fs.Bool("raise-tickets", false, "raise one ICT removal ticket per note with a pasted email")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: casefile notes scan [--raise-tickets]")
		return exitError(2)
	}
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := migrateDB(ctx, cfg, newLogger(cfg, stderr)); err != nil {
		return err
	}
	ctx = casefile.WithActor(ctx, cliActor())
	svc := &notes.Service{Store: db, Audit: db, RaiseTicket: removalTicketRaiser(db)}
	sum, err := svc.Scan(ctx, notes.ScanOptions{RaiseTickets: *raise}, func(f notes.Finding) error {
		line := fmt.Sprintf("note %s person %s: pasted email (%s, line %d)", f.NoteID, f.PersonID, f.Rule, f.Line)
		switch {
		case f.TicketID != "" && f.TicketCreated:
			line += "; removal ticket " + f.TicketID + " raised"
		case f.TicketID != "":
			line += "; removal ticket " + f.TicketID + " already raised"
		}
		fmt.Fprintln(stdout, line)
		return nil
	})
	if errors.Is(err, notes.ErrTicketsNotAvailable) {
		fmt.Fprintln(stderr, "casefile notes scan: --raise-tickets is not available in this build; run `casefile notes scan` to list the notes, then raise removal tickets with POST /v1/tickets")
		return exitError(2)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scanned %d note(s): %d contain pasted emails", sum.Scanned, sum.Found)
	if *raise {
		fmt.Fprintf(stdout, "; %d removal ticket(s) raised", sum.TicketsRaised)
	}
	fmt.Fprintln(stdout)
	return nil
}
