package httpapi

import "github.com/council/casefile"

// perm is one thing a route needs the caller's role to allow.
type perm string

const (
	permPersonsRead        perm = "persons:read"
	permPersonsWrite       perm = "persons:write"
	permDocumentsRead      perm = "documents:read"
	permDocumentsWrite     perm = "documents:write"
	permNotesRead          perm = "notes:read"
	permNotesWrite         perm = "notes:write"
	permNotesAmend         perm = "notes:amend"
	permNotesScan          perm = "notes:scan"
	permTicketsRead        perm = "tickets:read"
	permTicketsRaise       perm = "tickets:raise"
	permTicketsDecide      perm = "tickets:decide"
	permRetentionRead      perm = "retention:read"
	permRetentionManage    perm = "retention:manage"
	permDisposalDecide     perm = "disposal:decide" // exclude from, approve or reject a disposal list
	permExportsManage      perm = "exports:manage"
	permDisclosuresManage  perm = "disclosures:manage" // open, review, redact, approve and download disclosures
	permAuditRead          perm = "audit:read"
	permTeamsRead          perm = "teams:read"
	permTeamsManage        perm = "teams:manage"
	permRestrictionsManage perm = "restrictions:manage" // restrict a record, lift it, see its break-glass uses
	permUsersManage        perm = "users:manage"
	permTokensManage       perm = "tokens:manage"
	permReportsRead        perm = "reports:read"  // compliance reports: managers (their teams), records officers, auditors
	permAuthenticated      perm = "authenticated" // any valid token
)

var (
	readAll = []perm{permPersonsRead, permDocumentsRead, permNotesRead, permTicketsRead, permRetentionRead}
	// practitionerPerms: reads and writes persons, documents and notes; raises tickets.
	practitionerPerms = append([]perm{permPersonsWrite, permDocumentsWrite, permNotesWrite, permTicketsRaise}, readAll...)
)

// matrix is the permission matrix: the one place that says which role may do
// what. Every route names one perm; tests check the matrix route by route.
var matrix = map[casefile.Role][]perm{
	casefile.RolePractitioner:   practitionerPerms,
	casefile.RoleManager:        append([]perm{permTeamsRead, permRestrictionsManage, permReportsRead}, practitionerPerms...),
	casefile.RoleICT:            append([]perm{permTicketsDecide, permNotesAmend, permNotesScan, permTicketsRaise}, readAll...),
	casefile.RoleRecordsOfficer: append([]perm{permRetentionManage, permDisposalDecide, permExportsManage, permDisclosuresManage, permReportsRead}, readAll...),
	casefile.RoleAuditor:        append([]perm{permAuditRead, permReportsRead}, readAll...),
	casefile.RoleAdmin: {permPersonsRead, permPersonsWrite, permDocumentsRead, permDocumentsWrite, permNotesRead,
		permNotesWrite, permNotesAmend, permNotesScan, permTicketsRead, permTicketsRaise, permTicketsDecide,
		permRetentionRead, permRetentionManage, permDisposalDecide, permExportsManage, permDisclosuresManage, permAuditRead, permTeamsRead, permTeamsManage,
		permRestrictionsManage, permUsersManage, permTokensManage},
}

// allows reports whether role has p.
func allows(role casefile.Role, p perm) bool {
	if p == permAuthenticated {
		return casefile.ValidRole(role)
	}
	for _, x := range matrix[role] {
		if x == p {
			return true
		}
	}
	return false
}
