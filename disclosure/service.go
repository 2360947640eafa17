package disclosure

import (
	"context"
	"crypto/ed25519"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/council/casefile"
	"github.com/council/casefile/notes/thirdparty"
)

// Service carries out disclosures: the reviewer's changes, checked against
// the text the disclosure shows, and the bundle's build.
type Service struct {
	Store casefile.DisclosureStore
	// Open reads stored originals: plain-text files with no kept text,
	// and documents' originals for the bundle.
	Open OpenObject
	// Put stores a bundle; Destroy removes one.
	Put func(ctx context.Context, key string, r io.Reader) error
	// Reasons are the reasons a reviewer may give (CASEFILE_DISCLOSURE_REASONS).
	Reasons []Reason
	// Approvers is how many people must agree before a bundle is built:
	// 1 (the reviewer finalises) or 2 (a different person approves).
	Approvers int
	// FontDir holds the PDFs' Unicode fonts (export.DefaultFontDir when empty).
	FontDir string
	// SigningKey signs the bundle's manifest, as export bundles are signed.
	SigningKey func(ctx context.Context) (ed25519.PrivateKey, error)
	// AuditHead pins the audit log in the manifest.
	AuditHead func(ctx context.Context) (int64, string, error)
	// FinalAttempt reports whether the task in ctx will not be retried.
	FinalAttempt func(ctx context.Context) bool
	Now          func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// reasons is the configured list, or the defaults.
func (s *Service) reasons() []Reason {
	if len(s.Reasons) == 0 {
		return MustReasons(DefaultReasons)
	}
	return s.Reasons
}

// ReasonLabel is how a reason code reads in the bundle and the pages; a
// code no longer configured reads as itself.
func (s *Service) ReasonLabel(code string) string {
	for _, r := range s.reasons() {
		if r.Code == code {
			return r.Label
		}
	}
	return strings.ReplaceAll(code, "_", " ")
}

// ReasonList returns the configured reasons.
func (s *Service) ReasonList() []Reason { return s.reasons() }

func (s *Service) checkReason(code string) error {
	for _, r := range s.reasons() {
		if r.Code == code {
			return nil
		}
	}
	var codes []string
	for _, r := range s.reasons() {
		codes = append(codes, r.Code)
	}
	return casefile.Errorf(casefile.EUnprocessable, "invalid_reason", "reason must be one of: %s.", strings.Join(codes, ", "))
}

// CreateInput opens a disclosure; a zero ReceivedOn is today, a zero DueOn
// the statutory month after ReceivedOn.
type CreateInput struct {
	Purpose    string
	Requester  string
	ReceivedOn casefile.Date
	DueOn      casefile.Date
}

// Create opens a draft disclosure of a person's record.
func (s *Service) Create(ctx context.Context, personID string, in CreateInput) (*casefile.Disclosure, error) {
	if !casefile.ValidPurpose(in.Purpose) {
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_purpose", "purpose must be subject_access, court or other.")
	}
	in.Requester = strings.TrimSpace(in.Requester)
	if in.Requester == "" || utf8.RuneCountInString(in.Requester) > 200 {
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_requester", "requester is who asked (a name or an organisation), 1 to 200 characters.")
	}
	if in.ReceivedOn.IsZero() {
		in.ReceivedOn = casefile.DateOf(s.now().UTC())
	}
	if in.DueOn.IsZero() {
		in.DueOn = casefile.StatutoryDue(in.ReceivedOn)
	}
	if in.DueOn.Before(in.ReceivedOn) {
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_due_on", "due_on cannot be before received_on.")
	}
	return s.Store.CreateDisclosure(ctx, personID, casefile.DisclosureInput(in))
}

// Draft is a disclosure with its items as the reviewer sees them.
type Draft struct {
	*casefile.Disclosure
	Items []*Item `json:"items"`
	// Person is the subject of the record.
	Person *casefile.Person `json:"-"`
}

// Get returns a disclosure with its items, audited as a read of the record.
func (s *Service) Get(ctx context.Context, id string) (*Draft, error) {
	src, err := s.Store.DisclosureDraft(ctx, id, "disclosure.read")
	if err != nil {
		return nil, err
	}
	return s.draft(ctx, src)
}

func (s *Service) draft(ctx context.Context, src *casefile.DisclosureSource) (*Draft, error) {
	its, err := items(ctx, src, s.Open)
	if err != nil {
		return nil, err
	}
	return &Draft{Disclosure: src.Disclosure, Items: its, Person: src.Person}, nil
}

// item finds one item of a disclosure, unaudited (the change that needs it
// is audited).
func (s *Service) item(ctx context.Context, id, typ, itemID string) (*Item, error) {
	src, err := s.Store.DisclosureSource(ctx, id)
	if err != nil {
		return nil, err
	}
	if src.Disclosure.State != casefile.DisclosureDraft {
		return nil, casefile.Errorf(casefile.EConflict, "disclosure_not_draft",
			"This disclosure is %s; redactions, withholdings and suggestions change only while it is a draft.", src.Disclosure.State)
	}
	d, err := s.draft(ctx, src)
	if err != nil {
		return nil, err
	}
	for _, it := range d.Items {
		if it.Type == typ && strings.EqualFold(it.ID, itemID) {
			return it, nil
		}
	}
	return nil, casefile.Errorf(casefile.EUnprocessable, "item_not_found", "target_type and target_id name no item of this disclosure (its notes and active documents).")
}

// RedactionInput is a span to redact.
type RedactionInput struct {
	TargetType string
	TargetID   string
	Start, End int
	Reason     string
}

// Redact hides a span of an item's text.
func (s *Service) Redact(ctx context.Context, id string, in RedactionInput) (*casefile.Redaction, error) {
	r, err := s.checkSpan(ctx, id, in)
	if err != nil {
		return nil, err
	}
	return r, s.Store.AddRedaction(ctx, id, r)
}

func (s *Service) checkSpan(ctx context.Context, id string, in RedactionInput) (*casefile.Redaction, error) {
	if in.TargetType != casefile.ItemNote && in.TargetType != casefile.ItemDocument {
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_target_type", "target_type must be note or document.")
	}
	if err := s.checkReason(in.Reason); err != nil {
		return nil, err
	}
	it, err := s.item(ctx, id, in.TargetType, in.TargetID)
	if err != nil {
		return nil, err
	}
	if in.Start < 0 || in.End <= in.Start || in.End > it.Len() {
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_span",
			"start and end are offsets in the item's text, counted in characters (Unicode code points): 0 <= start < end <= %d.", it.Len())
	}
	return &casefile.Redaction{TargetType: it.Type, TargetID: it.ID, Start: in.Start, End: in.End, Reason: in.Reason,
		TextSHA256: it.TextSHA256()}, nil
}

// Unredact takes a redaction back.
func (s *Service) Unredact(ctx context.Context, id, redactionID string) error {
	return s.Store.RemoveRedaction(ctx, id, redactionID)
}

// Withhold leaves a document out of the bundle for a reason.
func (s *Service) Withhold(ctx context.Context, id, documentID, reason string) (*casefile.Withholding, error) {
	if err := s.checkReason(reason); err != nil {
		return nil, err
	}
	return s.Store.Withhold(ctx, id, strings.ToLower(documentID), reason)
}

// Unwithhold puts a withheld document back.
func (s *Service) Unwithhold(ctx context.Context, id, documentID string) error {
	return s.Store.Unwithhold(ctx, id, strings.ToLower(documentID))
}

// Suggestions lists the spans still to decide: names and references of
// other persons on the system, email addresses and phone numbers, in items
// not withheld. Audited as a read of the record.
func (s *Service) Suggestions(ctx context.Context, id string) ([]Suggestion, error) {
	src, err := s.Store.DisclosureDraft(ctx, id, "disclosure.suggestions")
	if err != nil {
		return nil, err
	}
	return s.suggestions(ctx, src)
}

func (s *Service) suggestions(ctx context.Context, src *casefile.DisclosureSource) ([]Suggestion, error) {
	d, err := s.draft(ctx, src)
	if err != nil {
		return nil, err
	}
	ps, err := s.Store.DisclosureCandidates(ctx, src.Person.ID)
	if err != nil {
		return nil, err
	}
	ix := thirdparty.NewIndex(candidates(ps))
	decided := map[spanKey]bool{}
	for _, x := range src.Disclosure.Decisions {
		decided[spanKey{x.TargetType, x.TargetID, x.Start, x.End}] = true
	}
	reason := s.reasons()[0].Code
	for _, r := range s.reasons() {
		if r.Code == "third_party" {
			reason = r.Code
		}
	}
	out := []Suggestion{}
	for _, it := range d.Items {
		if it.Withheld != nil {
			continue
		}
		for _, sg := range suggest(it, ix, thirdparty.PersonOf(src.Person), reason) {
			if undecided(sg, it, decided) {
				out = append(out, sg)
			}
		}
	}
	return out, nil
}

// DecisionInput answers one suggestion: accept (with a reason; the
// suggestion's own when empty) or reject.
type DecisionInput struct {
	TargetType string
	TargetID   string
	Start, End int
	Decision   string
	Reason     string
}

// Decide records the answer to a suggestion; an accepted one becomes a
// redaction. Returns EUnprocessable when no such suggestion is open.
func (s *Service) Decide(ctx context.Context, id string, in DecisionInput) (*casefile.SuggestionDecision, error) {
	if in.Decision != "accept" && in.Decision != "reject" {
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_decision", "decision must be accept or reject.")
	}
	src, err := s.Store.DisclosureSource(ctx, id)
	if err != nil {
		return nil, err
	}
	if src.Disclosure.State != casefile.DisclosureDraft {
		return nil, casefile.Errorf(casefile.EConflict, "disclosure_not_draft",
			"This disclosure is %s; redactions, withholdings and suggestions change only while it is a draft.", src.Disclosure.State)
	}
	all, err := s.suggestions(ctx, src)
	if err != nil {
		return nil, err
	}
	for _, sg := range all {
		if sg.TargetType != in.TargetType || !strings.EqualFold(sg.TargetID, in.TargetID) || sg.Start != in.Start || sg.End != in.End {
			continue
		}
		dec := &casefile.SuggestionDecision{TargetType: sg.TargetType, TargetID: sg.TargetID, Start: sg.Start, End: sg.End,
			Kind: sg.Kind, Decision: in.Decision}
		var r *casefile.Redaction
		if in.Decision == "accept" {
			reason := in.Reason
			if reason == "" {
				reason = sg.Reason
			}
			if err := s.checkReason(reason); err != nil {
				return nil, err
			}
			r = &casefile.Redaction{TargetType: sg.TargetType, TargetID: sg.TargetID, Start: sg.Start, End: sg.End, Reason: reason}
			for _, it := range mustItems(ctx, src, s.Open) {
				if it.Type == sg.TargetType && it.ID == sg.TargetID {
					r.TextSHA256 = it.TextSHA256()
				}
			}
		}
		return dec, s.Store.DecideSuggestion(ctx, id, dec, r)
	}
	return nil, casefile.Errorf(casefile.EUnprocessable, "suggestion_not_found",
		"No open suggestion has that target and span; see GET /v1/disclosures/{id}/suggestions.")
}

func mustItems(ctx context.Context, src *casefile.DisclosureSource, open OpenObject) []*Item {
	its, _ := items(ctx, src, open)
	return its
}

// Finalise asks for the bundle: the items are recorded as reviewed now;
// with two approvers it then waits for a second person's approval.
func (s *Service) Finalise(ctx context.Context, id string) (*casefile.Disclosure, error) {
	src, err := s.Store.DisclosureSource(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := s.draft(ctx, src)
	if err != nil {
		return nil, err
	}
	reviewed := make([]casefile.ReviewedItem, 0, len(d.Items))
	pending := 0
	for _, it := range d.Items {
		if it.TextPending && it.Withheld == nil {
			pending++
		}
	}
	if pending > 0 {
		return nil, casefile.Errorf(casefile.EConflict, "text_pending",
			"The text of %d document(s) is still being read; review it once it is there (in a minute or two), or withhold those documents, then finalise.", pending)
	}
	for _, it := range d.Items {
		for _, r := range it.Redactions {
			if r.TextSHA256 != it.TextSHA256() {
				return nil, casefile.Errorf(casefile.EConflict, "item_changed",
					"The text of %s changed after it was redacted; remove its redactions and redact it again.", it.Label())
			}
		}
		reviewed = append(reviewed, casefile.ReviewedItem{Type: it.Type, ID: it.ID, TextSHA256: it.TextSHA256()})
	}
	return s.Store.FinaliseDisclosure(ctx, id, max(s.Approvers, 1), reviewed)
}

// Approve is a second person's approval; the build is queued.
func (s *Service) Approve(ctx context.Context, id string) (*casefile.Disclosure, error) {
	if s.Approvers < 2 {
		return nil, casefile.Errorf(casefile.EConflict, "approval_not_required",
			"This service needs no second approval (CASEFILE_DISCLOSURE_APPROVERS=1); finalise builds the bundle.")
	}
	return s.Store.ApproveDisclosure(ctx, id)
}

// Return sends a disclosure awaiting approval, or whose build failed, back
// to draft.
func (s *Service) Return(ctx context.Context, id string) (*casefile.Disclosure, error) {
	return s.Store.ReturnDisclosure(ctx, id)
}

// RedactPhrase redacts every place an item's text has phrase (case
// ignored) not already redacted, and returns how many: the pages' way to
// redact without choosing offsets.
func (s *Service) RedactPhrase(ctx context.Context, id, typ, itemID, phrase, reason string) (int, error) {
	phrase = strings.TrimSpace(phrase)
	if phrase == "" {
		return 0, casefile.Errorf(casefile.EUnprocessable, "missing_phrase", "Enter the words to redact, as they are written in the item.")
	}
	if err := s.checkReason(reason); err != nil {
		return 0, err
	}
	it, err := s.item(ctx, id, typ, itemID)
	if err != nil {
		return 0, err
	}
	spans := Occurrences(it.Text, phrase)
	n := 0
	for _, sp := range spans {
		if covered(it.Redactions, sp[0], sp[1]) {
			continue
		}
		r := &casefile.Redaction{TargetType: it.Type, TargetID: it.ID, Start: sp[0], End: sp[1], Reason: reason, TextSHA256: it.TextSHA256()}
		if err := s.Store.AddRedaction(ctx, id, r); err != nil {
			return n, err
		}
		n++
	}
	if len(spans) == 0 {
		return 0, casefile.Errorf(casefile.EUnprocessable, "phrase_not_found", "Those words are not in this item's text. Copy them exactly as they are written.")
	}
	return n, nil
}

// Occurrences returns the [start, end) code-point spans where text has
// phrase, case ignored, not overlapping.
func Occurrences(text, phrase string) [][2]int {
	rs, ps := []rune(text), []rune(phrase)
	var out [][2]int
	for i := 0; i+len(ps) <= len(rs) && len(ps) > 0; i++ {
		if strings.EqualFold(string(rs[i:i+len(ps)]), phrase) {
			out = append(out, [2]int{i, i + len(ps)})
			i += len(ps) - 1
		}
	}
	return out
}

func covered(rs []*casefile.Redaction, start, end int) bool {
	for _, r := range rs {
		if r.Start <= start && end <= r.End {
			return true
		}
	}
	return false
}
