package main

import (
	"fmt"
	"regexp"
	"time"

	"github.com/council/casefile/extract"
)

// extractLimits reads the limits of text extraction (README, Configuration).
func extractLimits(get func(name, def string) string) (extract.Limits, error) {
	var l extract.Limits
	seconds, err := intSetting(get, "CASEFILE_EXTRACT_TIMEOUT_SECONDS", "300", 5, 3600)
	if err != nil {
		return l, err
	}
	maxBytes, err := intSetting(get, "CASEFILE_EXTRACT_MAX_BYTES", "268435456", 1024, 1<<40)
	if err != nil {
		return l, err
	}
	maxText, err := intSetting(get, "CASEFILE_EXTRACT_MAX_TEXT_BYTES", "8388608", 1024, 256<<20)
	if err != nil {
		return l, err
	}
	unzipped, err := intSetting(get, "CASEFILE_EXTRACT_MAX_UNZIPPED_BYTES", "67108864", 1024, 4<<30)
	if err != nil {
		return l, err
	}
	memory, err := intSetting(get, "CASEFILE_EXTRACT_MEMORY_MB", "1024", 64, 65536)
	if err != nil {
		return l, err
	}
	pages, err := intSetting(get, "CASEFILE_EXTRACT_OCR_PAGES", "50", 1, 10000)
	if err != nil {
		return l, err
	}
	lang := get("CASEFILE_OCR_LANGUAGE", "eng")
	if !ocrLanguage.MatchString(lang) {
		return l, &configError{"CASEFILE_OCR_LANGUAGE", fmt.Sprintf("must be Tesseract's language codes joined by +, like eng or eng+pol, got %q", lang)}
	}
	return extract.Limits{Timeout: time.Duration(seconds) * time.Second, MaxBytes: int64(maxBytes), MaxText: maxText,
		MaxUnzipped: int64(unzipped), Memory: int64(memory) << 20, OCRPages: pages, OCRLanguage: lang}, nil
}

// ocrLanguage is what Tesseract's -l takes: codes such as eng, pol, chi_sim.
var ocrLanguage = regexp.MustCompile(`^[a-z][a-z_]{1,15}(\+[a-z][a-z_]{1,15}){0,7}$`)
