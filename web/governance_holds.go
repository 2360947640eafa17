package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/council/casefile"
)

// Legal holds: what they cover, placing one on named records or on every
// record, and releasing one with a reason.

type holdsData struct {
	Holds []*casefile.Hold
	Next  string
	// The form to place a hold, as typed.
	Name, Reason, Scope, Refs string
	MayManage                 bool
}

func (s *Server) holdsPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.holdsView(w, r, c, &holdsData{Scope: "named"}, nil, http.StatusOK)
}

func (s *Server) holdsView(w http.ResponseWriter, r *http.Request, c *Caller, d *holdsData, errs []fieldError, status int) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	hs, next, err := st.Holds(r.Context(), casefile.Page{Limit: 50, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d.Holds, d.MayManage = hs, s.may(c, permRetentionManage)
	if next != "" {
		d.Next = encodeQuery(map[string][]string{"cursor": {next}})
	}
	p := &page{Title: "Legal holds", Nav: "holds", Errors: errs, Data: d}
	switch r.URL.Query().Get("done") {
	case "placed":
		p.Banner = &banner{Success: true, Heading: "Hold placed", Text: "Nothing it covers is destroyed while it stands; the stored originals are locked too."}
	case "released":
		p.Banner = &banner{Success: true, Heading: "Hold released", Text: "What it covered follows the retention schedule again."}
	}
	s.render(w, r, c, status, "holds", p)
}

// placeHold places a hold on the records named by reference, one a line,
// or on every record.
func (s *Server) placeHold(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := &holdsData{Name: strings.TrimSpace(r.PostFormValue("name")), Scope: r.PostFormValue("scope"), Refs: r.PostFormValue("refs")}
	var errs []fieldError
	if d.Name == "" {
		errs = append(errs, fieldError{"name", "Enter a name for the hold, such as the case or inquiry it is for"})
	} else if len([]rune(d.Name)) > 200 {
		errs = append(errs, fieldError{"name", "Enter a name of at most 200 characters"})
	}
	reason, fe := reasonOf(r, "reason", "Enter why the records must be kept")
	d.Reason = reason
	if fe != nil {
		errs = append(errs, *fe)
	}
	h := &casefile.Hold{Name: d.Name, Reason: reason, PersonIDs: []string{}}
	switch d.Scope {
	case "all":
		h.All = true
	case "named":
		var missing []string
		for _, ref := range strings.FieldsFunc(d.Refs, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
			ref = strings.TrimSpace(ref)
			if ref == "" {
				continue
			}
			ps, _, err := s.cfg.Persons.FindPersons(r.Context(), casefile.PersonFilter{ExternalRef: ref, Page: casefile.Page{Limit: 1}})
			if err != nil {
				s.errorPage(w, r, c, err)
				return
			}
			if len(ps) == 0 {
				missing = append(missing, ref)
				continue
			}
			h.PersonIDs = append(h.PersonIDs, ps[0].ID)
		}
		switch {
		case len(missing) > 0:
			errs = append(errs, fieldError{"refs", "No record has the reference " + strings.Join(missing, ", ")})
		case len(h.PersonIDs) == 0:
			errs = append(errs, fieldError{"refs", "Enter the reference of each record the hold covers, one a line"})
		case len(h.PersonIDs) > 10000:
			errs = append(errs, fieldError{"refs", "A hold names at most 10,000 records; hold every record instead"})
		}
	default:
		errs = append(errs, fieldError{"scope", "Select what the hold covers"})
	}
	if len(errs) > 0 {
		s.holdsView(w, r, c, d, errs, http.StatusUnprocessableEntity)
		return
	}
	if err := st.CreateHold(r.Context(), h); err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		s.holdsView(w, r, c, d, []fieldError{{"", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/holds?done=placed", http.StatusSeeOther)
}

// findHold looks a hold up by id in the list of holds.
func (s *Server) findHold(r *http.Request, id string) (*casefile.Hold, error) {
	st, err := s.retention()
	if err != nil {
		return nil, err
	}
	p := casefile.Page{Limit: casefile.MaxPageLimit}
	for range 100 {
		hs, next, err := st.Holds(r.Context(), p)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			if h.ID == id {
				return h, nil
			}
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	return nil, notFound("hold")
}

type releaseData struct {
	Hold   *casefile.Hold
	Reason string
}

// releaseForm asks why a hold is released, and whether the officer is sure.
func (s *Server) releaseForm(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.releaseView(w, r, c, "", nil, http.StatusOK)
}

func (s *Server) releaseView(w http.ResponseWriter, r *http.Request, c *Caller, reason string, errs []fieldError, status int) {
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("hold"))
		return
	}
	h, err := s.findHold(r, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	s.render(w, r, c, status, "hold-release", &page{Title: "Release the hold " + strconv.Quote(h.Name), Nav: "holds", Errors: errs,
		Data: releaseData{Hold: h, Reason: reason}})
}

func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	reason, fe := reasonOf(r, "reason", "Enter why the hold is released")
	if fe != nil {
		s.releaseView(w, r, c, reason, []fieldError{*fe}, http.StatusUnprocessableEntity)
		return
	}
	if _, err := st.ReleaseHold(r.Context(), r.PathValue("id"), reason); err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		s.releaseView(w, r, c, reason, []fieldError{{"", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/holds?done=released", http.StatusSeeOther)
}

// holdsCSV is every hold with what it covers, as CSV.
func (s *Server) holdsCSV(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	p := casefile.Page{Limit: casefile.MaxPageLimit}
	hs, next, err := st.Holds(r.Context(), p)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	cw := csvDownload(w, "holds-"+casefile.Today().String()+".csv", "id", "name", "reason", "covers", "person_ids", "placed_by",
		"placed_at", "released_by", "released_at", "release_reason")
	for {
		for _, h := range hs {
			covers, released := strconv.Itoa(len(h.PersonIDs))+" records", ""
			if h.All {
				covers = "every record"
			}
			if h.ReleasedAt != nil {
				released = h.ReleasedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			cw.Write([]string{h.ID, csvSafe(h.Name), csvSafe(h.Reason), covers, strings.Join(h.PersonIDs, " "), h.CreatedBy, //nolint:errcheck
				h.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), h.ReleasedBy, released, csvSafe(h.ReleaseReason)})
		}
		if next == "" {
			break
		}
		p.Cursor = next
		if hs, next, err = st.Holds(r.Context(), p); err != nil {
			s.log.Error("holds CSV cut short", "err", err)
			break
		}
	}
	cw.Flush()
}
