package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/council/casefile/reports"
)

// chartColours are the bars' colours, one per series: each has at least
// 4.5:1 contrast with the white background (GOV.UK blue, black, green,
// purple), and each bar is labelled with its value and the legend names
// them, so that colour is never the only way to tell them apart.
var chartColours = []string{"#1d70b8", "#0b0c0c", "#00703c", "#4c2c92"}

// Chart layout, in SVG user units (the image scales to its container).
const (
	chartWidth    = 720
	chartLabelW   = 200 // the label column
	chartValueW   = 60  // room for the value after the longest bar
	chartBarH     = 18
	chartGroupGap = 14
	chartLegendH  = 30
)

// chartSVG draws a report's chart as a horizontal bar chart: one group per
// label, one bar per series. It is an image to assistive technology
// (role="img" with its title and description); the report's table on the
// same page is its full text alternative. Nothing in it is script or style
// (the pages' CSP allows neither inline).
func chartSVG(cd *reports.ChartData, id string, labelText func(string) string) template.HTML {
	if cd == nil || len(cd.Labels) == 0 {
		return ""
	}
	max := 0.0
	for _, vs := range cd.Values {
		for _, v := range vs {
			max = math.Max(max, v)
		}
	}
	if max == 0 {
		return "" // nothing to draw: the page says so
	}
	labels := make([]string, len(cd.Labels))
	for i, l := range cd.Labels {
		labels[i] = labelText(l)
	}
	n := len(cd.Series)
	groupH := n*chartBarH + chartGroupGap
	// The legend: one entry per series, wrapped onto as many rows as need.
	type entry struct{ x, row int }
	var legend []entry
	x, row := chartLabelW, 0
	for _, s := range cd.Series {
		w := 20 + 8*len([]rune(s.Label)) + 24
		if x+w > chartWidth && x > chartLabelW {
			x, row = chartLabelW, row+1
		}
		legend = append(legend, entry{x, row})
		x += w
	}
	top := (row + 1) * chartLegendH
	height := top + len(labels)*groupH + 10
	barsW := float64(chartWidth - chartLabelW - chartValueW)
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="casefile-chart" role="img" aria-labelledby="%[1]s-title %[1]s-desc" `+
		`viewBox="0 0 %[2]d %[3]d" width="100%%" font-family="Arial, sans-serif" font-size="14">`, id, chartWidth, height)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, id, esc(cd.Title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`, id, esc(describe(cd, labels)))
	for j, s := range cd.Series {
		e := legend[j]
		y := e.row * chartLegendH
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="14" fill="%s"/><text x="%d" y="%d" fill="#0b0c0c">%s</text>`,
			e.x, y+6, chartColours[j%len(chartColours)], e.x+20, y+18, esc(s.Label))
	}
	// Axis line at zero.
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#0b0c0c" stroke-width="1"/>`, chartLabelW, top, chartLabelW, height-6)
	for i, label := range labels {
		y := top + i*groupH + chartGroupGap/2
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#0b0c0c">%s</text>`, chartLabelW-8, y+n*chartBarH/2+5, esc(shorten(label, 26)))
		for j := range cd.Series {
			v := cd.Values[i][j]
			w := barsW * v / max
			by := y + j*chartBarH
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, chartLabelW, by+1, w, chartBarH-2, chartColours[j%len(chartColours)])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#0b0c0c">%s</text>`, float64(chartLabelW)+w+6, by+chartBarH-4, number(v))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text in it is escaped above
}

// describe is the chart's description: what it shows, in a sentence a
// screen reader can read (the table below has every figure).
func describe(cd *reports.ChartData, labels []string) string {
	var parts []string
	for i, l := range labels {
		var vs []string
		for j, s := range cd.Series {
			vs = append(vs, strings.ToLower(s.Label)+" "+number(cd.Values[i][j]))
		}
		parts = append(parts, l+": "+strings.Join(vs, ", "))
	}
	if len(parts) > 12 {
		parts = append(parts[:12], fmt.Sprintf("and %d more, in the table below", len(parts)-12))
	}
	return "Bar chart. " + strings.Join(parts, "; ") + "."
}

func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
