package main

import (
	"context"
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
	return casefile.Actor{Name: "cli:" + name, Role: casefile.RoleAdmin}
}

func cmdNotesImport(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notes import", stderr)
	file := fs.String("csv", "", "the CSV file exported from the case management system")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if *file == "" {
		fmt.Fprintln(stderr, "usage: casefile notes import --csv FILE (columns: see README)")
		return exitError(2)
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, bad, err := notes.ParseCSV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(stdout, "%s:%d: %s\n", *file, b.Line, b.Msg)
		}
		fmt.Fprintf(stdout, "%d bad row(s); nothing was imported. Fix them and import the file again.\n", len(bad))
		return exitError(1)
	}
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	ctx = casefile.WithActor(ctx, cliActor())
	imported, skipped, err := db.ImportNotes(ctx, rows)
	if err != nil {
		if k := casefile.ErrorKind(err); k == casefile.EUnprocessable || k == casefile.EInvalid {
			fmt.Fprintf(stdout, "%s: %s; nothing was imported.\n", *file, casefile.ErrorMessage(err))
			return exitError(1)
		}
		return err
	}
	pasted := 0
	for _, r := range rows {
		if err := notes.CheckBody(r.Body); casefile.ErrorCode(err) == "pasted_email" {
			pasted++
			fmt.Fprintf(stdout, "%s:%d: note %s contains a pasted email; run `casefile notes scan --raise-tickets` to have ICT remove it\n",
				*file, r.Line, r.LegacyID)
		}
	}
	fmt.Fprintf(stdout, "imported %d note(s), %d already imported, %d with pasted emails\n", imported, skipped, pasted)
	return nil
}

func cmdNotesScan(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notes scan", stderr)
	raise := fs.Bool("raise-tickets", false, "raise one ICT removal ticket per note with a pasted email")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = casefile.WithActor(ctx, cliActor())
	svc := &notes.Service{Store: db}
	found := 0
	raised := 0
	n, err := svc.Scan(ctx, func(f notes.Finding) error {
		found++
		line := fmt.Sprintf("note %s person %s: pasted email (%s, line %d)", f.NoteID, f.PersonID, f.Rule, f.Line)
		if *raise {
			t, created, err := raiseRemovalTicket(ctx, db, f)
			if err != nil {
				return err
			}
			if created {
				raised++
				line += "; removal ticket " + t + " raised"
			} else {
				line += "; removal ticket " + t + " already raised"
			}
		}
		fmt.Fprintln(stdout, line)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scanned %d note(s): %d contain pasted emails", n, found)
	if *raise {
		fmt.Fprintf(stdout, "; %d removal ticket(s) raised", raised)
	}
	fmt.Fprintln(stdout)
	return nil
}
