package notes

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/notes/thirdparty"
)

// indexTTL bounds how long an index is trusted without a new look at the
// persons' version (a change committed by a transaction that began before
// the last look is caught by then).
const indexTTL = 5 * time.Minute

// ThirdParty warns the author of a note that names another person on the
// system who has no recorded relationship to the note's person (the policy:
// notes "SHOULD NOT INCLUDE CONFIDENTIAL INFORMATION about other persons").
// It keeps one index of every person's names, reference and NHS number in
// memory, built again only when a person is added, renamed or destroyed, so
// a check costs two small queries and a read of the note, not a load of
// every person. A person the caller may not see is never named in a warning.
type ThirdParty struct {
	Store  casefile.ThirdPartyStore
	Access casefile.AccessService
	Now    func() time.Time

	mu      sync.Mutex
	ix      *thirdparty.Index
	version string
	checked time.Time
}

func (t *ThirdParty) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// index returns the index of every active person, rebuilding it when the
// persons have changed.
func (t *ThirdParty) index(ctx context.Context) (*thirdparty.Index, error) {
	v, err := t.Store.PersonsVersion(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ix != nil && v == t.version && t.now().Sub(t.checked) < indexTTL {
		return t.ix, nil
	}
	ps, err := t.Store.CheckablePersons(ctx)
	if err != nil {
		return nil, err
	}
	t.ix, t.version, t.checked = thirdparty.NewIndex(personsOf(ps)), v, t.now()
	return t.ix, nil
}

func personsOf(ps []*casefile.Person) []thirdparty.Person {
	out := make([]thirdparty.Person, 0, len(ps))
	for _, p := range ps {
		out = append(out, thirdparty.PersonOf(p))
	}
	return out
}

// Check returns the third-party warnings for a note on personID's record:
// each other person it names, by full name, reference or NHS number, who is
// not related to them and whom the caller may see.
func (t *ThirdParty) Check(ctx context.Context, personID, body string) ([]casefile.NoteWarning, error) {
	ix, err := t.index(ctx)
	if err != nil {
		return nil, err
	}
	related, err := t.Store.RelatedPersons(ctx, personID)
	if err != nil {
		return nil, err
	}
	return t.visible(ctx, ix.Check(body, personsOf(related)...))
}

// visible converts warnings, leaving out persons the caller may not see.
func (t *ThirdParty) visible(ctx context.Context, ws []thirdparty.Warning) ([]casefile.NoteWarning, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.PersonID
	}
	vis, err := t.Access.VisiblePersons(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []casefile.NoteWarning
	for _, w := range ws {
		if vis[w.PersonID] {
			out = append(out, casefile.NoteWarning{Code: w.Code, PersonID: w.PersonID, Match: w.Match})
		}
	}
	return out, nil
}

// Candidate is a stored note that names another person: a candidate for ICT
// to look at (and, if it is so, to raise a removal or a re-index).
type Candidate struct {
	NoteID        string `json:"note_id"`
	PersonID      string `json:"person_id"`
	NamedPersonID string `json:"named_person_id"`
	Match         string `json:"match"`
}

// Candidates runs the check over every stored active note, with one index of
// every person and every relationship, and calls fn for each note that
// names someone unrelated, leaving out notes on records and persons the
// caller may not see. Each candidate is audited on the note's record
// (note.third_party_candidate, with no text), the run as a whole once.
func (s *Service) Candidates(ctx context.Context, fn func(Candidate) error) (int, error) {
	t := s.ThirdParty
	if t == nil {
		return 0, casefile.Unavailable("third-party check", nil)
	}
	ix, err := t.index(ctx)
	if err != nil {
		return 0, err
	}
	persons, err := t.Store.CheckablePersons(ctx)
	if err != nil {
		return 0, err
	}
	byID := map[string]thirdparty.Person{}
	for _, p := range persons {
		byID[p.ID] = thirdparty.PersonOf(p)
	}
	relations, err := t.Store.Relations(ctx)
	if err != nil {
		return 0, err
	}
	scanned, found := 0, 0
	err = s.Store.ScanNotes(ctx, func(sn *casefile.StoredNote) error {
		scanned++
		exclude := []thirdparty.Person{byID[sn.PersonID]}
		for _, id := range relations[sn.PersonID] {
			exclude = append(exclude, byID[id])
		}
		exclude[0].ID = sn.PersonID // a destroyed subject is still not a third party
		ws := ix.Check(sn.Body, exclude...)
		if len(ws) == 0 {
			return nil
		}
		ids := []string{sn.PersonID}
		for _, w := range ws {
			ids = append(ids, w.PersonID)
		}
		vis, err := t.Access.VisiblePersons(ctx, ids)
		if err != nil {
			return err
		}
		if !vis[sn.PersonID] {
			return nil
		}
		for _, w := range ws {
			if !vis[w.PersonID] {
				continue
			}
			found++
			if s.Audit != nil {
				details, _ := json.Marshal(map[string]any{"named_person_id": w.PersonID})
				if err := s.Audit.RecordEvent(ctx, &casefile.AuditEvent{Action: "note.third_party_candidate", TargetType: "note",
					TargetID: sn.ID, PersonID: sn.PersonID, Details: details}); err != nil {
					return err
				}
			}
			if err := fn(Candidate{NoteID: sn.ID, PersonID: sn.PersonID, NamedPersonID: w.PersonID, Match: w.Match}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return scanned, err
	}
	if s.Audit != nil {
		details, _ := json.Marshal(map[string]int{"scanned": scanned, "found": found})
		if err := s.Audit.RecordEvent(ctx, &casefile.AuditEvent{Action: "notes.third_party_scan", TargetType: "notes", TargetID: "all",
			Details: details}); err != nil {
			return scanned, err
		}
	}
	return scanned, nil
}
