package extract

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"
)

// maxHTMLToken bounds one token of HTML (a tag, or a run of text between
// tags): past it the rest of the page is not read.
const maxHTMLToken = 4 << 20

// HTML writes the readable text of an HTML page to out: scripts, styles
// and templates are left out, blocks start new lines, cells are apart by
// tabs. The page is tokenized as it streams (no tree is built, so nesting
// costs nothing), in the character set it declares or contentType names.
func HTML(r io.Reader, contentType string, out io.StringWriter) error {
	br := bufio.NewReaderSize(r, 8192)
	head, _ := br.Peek(1024)
	enc, _, _ := charset.DetermineEncoding(head, contentType)
	z := html.NewTokenizer(transform.NewReader(br, enc.NewDecoder()))
	z.SetMaxBuf(maxHTMLToken)
	skip := 0
	write := func(s string) error {
		_, err := out.WriteString(s)
		return err
	}
	for {
		tt := z.Next()
		var err error
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				if errors.Is(err, html.ErrBufferExceeded) {
					return errors.New("a part of the HTML is too long to read; the text before it is kept")
				}
				return err
			}
			return nil
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			n := string(name)
			if hidden[n] {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch {
			case n == "td" || n == "th":
				if tt == html.EndTagToken {
					err = write("\t")
				}
			case n == "br" || n == "hr" || blocks[n]:
				err = write("\n")
			}
		case html.TextToken:
			if skip == 0 {
				err = write(collapse(string(z.Text())))
			}
		}
		if err != nil {
			return err
		}
	}
}

// hidden elements' content is not text for people.
var hidden = map[string]bool{"script": true, "style": true, "template": true, "svg": true, "object": true}

// blocks start and end lines.
var blocks = map[string]bool{"p": true, "div": true, "tr": true, "li": true, "ul": true, "ol": true, "table": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "title": true, "pre": true, "blockquote": true,
	"section": true, "article": true, "header": true, "footer": true, "address": true, "dd": true, "dt": true, "caption": true}

// collapse turns runs of white space into one space, as a browser shows
// them.
func collapse(s string) string {
	if !strings.ContainsAny(s, " \t\r\n\f") {
		return s
	}
	f := strings.Fields(s)
	j := strings.Join(f, " ")
	if len(f) > 0 && strings.IndexAny(s[:1], " \t\r\n\f") == 0 {
		j = " " + j
	}
	if len(f) > 0 && strings.ContainsAny(s[len(s)-1:], " \t\r\n\f") {
		j += " "
	}
	if len(f) == 0 {
		return " "
	}
	return j
}

// HTMLText is the readable text of HTML already decoded to a string (an
// email's HTML body), tidied.
func HTMLText(s string) string {
	t := newText(len(s) + 1)
	HTML(strings.NewReader(s), "text/html; charset=utf-8", t) //nolint:errcheck // what was read is the text
	return t.String()
}
