package web

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/council/casefile/reports"
)

// A chart is well-formed SVG that names itself to assistive technology, and
// a team or person's name in it is text, never markup.
func TestChartSVG(t *testing.T) {
	cd := &reports.ChartData{Title: "Notes & late notes by team", Labels: []string{"<script>alert(1)</script>", "Blue team"},
		Series: []reports.Column{{Key: "notes", Label: "Notes recorded"}, {Key: "late", Label: "Late notes"}},
		Values: [][]float64{{4, 1}, {10, 0}}}
	svg := string(chartSVG(cd, "c1", strings.ToUpper))
	if strings.Contains(svg, "<script") || strings.Contains(svg, "<SCRIPT") {
		t.Fatalf("markup in a label got through: %s", svg)
	}
	d := xml.NewDecoder(strings.NewReader(svg))
	var rects, texts int
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v\n%s", err, svg)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "rect":
				rects++
			case "text":
				texts++
			}
		}
	}
	for _, want := range []string{`role="img"`, `aria-labelledby="c1-title c1-desc"`, `<title id="c1-title">Notes &amp; late notes by team</title>`,
		"BLUE TEAM: notes recorded 10, late notes 0", ">10</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %q in %s", want, svg)
		}
	}
	// Two legend keys and four bars; two labels, four values, two legend texts.
	if rects != 6 || texts != 8 {
		t.Errorf("%d rects, %d texts", rects, texts)
	}
	if chartSVG(&reports.ChartData{Labels: []string{"a"}, Series: cd.Series, Values: [][]float64{{0, 0}}}, "c2", strings.ToUpper) != "" {
		t.Error("a chart of noughts is drawn")
	}
}
