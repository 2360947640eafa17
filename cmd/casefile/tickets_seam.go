package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/council/casefile"
	"github.com/council/casefile/notes"
	"github.com/council/casefile/storage/postgres"
)

// removalTicketRaiser returns what raises a removal ticket for a pasted-email
// finding of `casefile notes scan --raise-tickets` and of POST
// /v1/notes/scan?raise_tickets=true.
func removalTicketRaiser(db *postgres.DB) notes.TicketRaiser {
	return func(ctx context.Context, f notes.Finding) (string, bool, error) {
		return raiseRemovalTicket(ctx, db, f)
	}
}

// raiseRemovalTicket raises a removal ticket for a scan finding; it returns
// the ticket id and whether it was new. A note never has two removal
// tickets, however often scans run, nor a removal beside another live ticket
// (a re-index, a reopen): that ticket is reported instead, and a later scan
// raises the removal once it is settled.
func raiseRemovalTicket(ctx context.Context, db *postgres.DB, f notes.Finding) (string, bool, error) {
	t := &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: f.NoteID, Source: "scan",
		Reason: fmt.Sprintf("casefile notes scan: the note contains a pasted email (%s at line %d); the policy requires its removal. "+
			"Re-enter the note without the email and upload the email as a document.", strings.ReplaceAll(f.Rule, "_", " "), f.Line)}
	err := db.CreateTicket(ctx, t)
	if casefile.ErrorCode(err) == "ticket_exists" {
		id, err := db.BlockingTicket(ctx, "note", f.NoteID)
		return id, false, err
	}
	if err != nil {
		return "", false, err
	}
	return t.ID, true, nil
}
