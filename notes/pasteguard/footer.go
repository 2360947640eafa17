package pasteguard

import "strings"

// mailFooters are the lines mail apps append to messages sent from them,
// lowered. Nobody writes "Sent from my iPhone" alone on a line of a case
// note, so the line is evidence by itself.
var mailFooters = []string{
	"sent from my iphone", "sent from my ipad", "sent from my android", "sent from my samsung",
	"sent from my galaxy", "sent from my huawei", "sent from my blackberry",
	"sent from outlook", "get outlook for ios", "get outlook for android",
	"sent from mail for windows", "sent from yahoo mail", "sent from the all new aol app",
	"sent from my bt mobile", "von meinem iphone gesendet", "envoyé de mon iphone", "enviado desde mi iphone",
	"verzonden vanaf mijn iphone", "inviato da iphone",
}

// mailFooter finds a mail app's footer standing alone on its line.
func mailFooter(d *doc) (Finding, bool) {
	for i := range d.lines {
		c := strings.TrimRight(d.content(i), " .")
		if len(c) > 60 || !strings.HasPrefix(c, "sent from") && !strings.HasPrefix(c, "get outlook") && !strings.Contains(c, "iphone") {
			continue
		}
		for _, f := range mailFooters {
			rest, ok := strings.CutPrefix(c, f)
			// Allow the model or app version after the phrase
			// ("Sent from my Samsung Galaxy smartphone.", "Sent from Outlook for iOS").
			if ok && (rest == "" || rest[0] == ' ') && len(strings.Fields(rest)) <= 3 {
				return Finding{Rule: "mail_client_footer", Line: i + 1, Excerpt: title(f)}, true
			}
		}
	}
	return Finding{}, false
}
