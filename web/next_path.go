package web

import (
	"net/url"
	"strings"
)

// safeNext returns next if a browser told to go there stays on this site
// (a path on this origin), else "". next is the decoded ?next= value.
//
// An open redirect lets a phishing link bounce a freshly logged-in user to
// another site, and browsers are generous in what they take for "another
// site": they drop tabs and newlines anywhere in a URL ("/\t/evil" is
// "//evil"), read a backslash as a slash ("/\evil" is "//evil"), and treat
// "//host" as a host. So only a plain absolute path is followed: it starts
// with one slash, holds no control characters, spaces or backslashes, has
// no empty or dot segments (literal or percent-encoded, so nothing can
// collapse into "//"), and carries no scheme, host or user.
func safeNext(next string) string {
	if len(next) < 1 || next[0] != '/' || len(next) > 2000 {
		return ""
	}
	for _, r := range next {
		if r <= ' ' || r == 0x7f || r == '\\' || r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	path := strings.ToLower(u.EscapedPath())
	if strings.Contains(path, "%2f") || strings.Contains(path, "%5c") {
		return ""
	}
	segs := strings.Split(path, "/")[1:] // [0] is before the leading slash
	for i, seg := range segs {
		switch strings.ReplaceAll(seg, "%2e", ".") {
		case "":
			if i < len(segs)-1 {
				return "" // "//": a host to a browser
			}
		case ".", "..":
			return ""
		}
	}
	return next
}
