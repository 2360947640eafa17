package ingest

// MemoryIdle reports whether no upload holds any of the memory budget
// (for the tests of package ingest_test).
func (s *Service) MemoryIdle() bool { return s.held.Load() == 0 }

// SpoolFile is spoolFile, for the tests of package ingest_test.
var SpoolFile = spoolFile

// OnAttachment has f called as each attachment is extracted, before it is
// stored (a test injects a panic into parsing with it).
func (s *Service) OnAttachment(f func(name string)) { s.onAttachment = f }

// ReadUpTo is readUpTo, for the tests of package ingest_test.
var ReadUpTo = readUpTo
