package web

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// nextCases are ?next= values as they appear in a link (percent-encoded),
// each with where the login page may send the browser: "" for nowhere but
// the user's home page.
var nextCases = []struct{ raw, want string }{
	{"/agent", "/agent"},
	{"/manage%3Ftab%3Dlists", "/manage?tab=lists"},
	{"/manage/", "/manage/"},
	{"/", "/"},
	{"/%09/evil.example", ""},            // the tab is dropped by the browser: //evil.example
	{"/%0a/evil.example", ""},            // so is a newline
	{"/%0d/evil.example", ""},            // and a carriage return
	{"/\t/evil", ""},                     // a raw tab
	{"%2F%09%2Fevil.example", ""},        // the same, every byte encoded
	{"//evil.example", ""},               // protocol-relative
	{"%2F%2Fevil.example", ""},           // encoded
	{"/\\evil.example", ""},              // a backslash is a slash to a browser
	{"/%5Cevil.example", ""},             // encoded
	{"/%5C%5Cevil.example", ""},          // two of them
	{"https://evil.example", ""},         // absolute
	{"https:%2F%2Fevil.example", ""},     // encoded
	{"http:/evil.example", ""},           // a scheme with one slash
	{"javascript:alert(1)", ""},          // a script
	{"/%2F%2Fevil.example", ""},          // "/" then an encoded "//"
	{"/%252F%252Fevil.example", ""},      // double-encoded slashes
	{"/%255Cevil.example", ""},           // double-encoded backslash
	{"/.//evil.example", ""},             // a dot segment collapsing into "//"
	{"/%2e//evil.example", ""},           // encoded
	{"/../evil.example", ""},             // climbing out
	{"/%20/evil.example", ""},            // spaces
	{"/%C2%A0/evil.example", ""},         // no-break space
	{"/%E2%80%A8/evil.example", ""},      // line separator
	{"/@evil.example", "/@evil.example"}, // a path on this site, not a user
	{"evil.example", ""},                 // relative
	{"", ""},
}

// The sanitizer follows only paths on this site, whatever a browser makes
// of tabs, backslashes, encodings and dot segments.
func TestSafeNextRefusesOffSitePaths(t *testing.T) {
	t.Parallel()
	for _, tt := range nextCases {
		next, err := url.QueryUnescape(tt.raw)
		require.NoError(t, err, tt.raw)
		require.Equal(t, tt.want, safeNext(next), "next=%s", tt.raw)
	}
}

// The login page hands the script only a next path the sanitizer allows.
func TestLoginPageKeepsNextOnSite(t *testing.T) {
	t.Parallel()
	s := startServer(t, testdb.NewPool(t), "n1")
	attr := regexp.MustCompile(`data-next="([^"]*)"`)
	for _, tt := range nextCases {
		next, err := url.QueryUnescape(tt.raw)
		require.NoError(t, err)
		resp, err := http.Get("http://" + s.Addr() + "/login?next=" + url.QueryEscape(next))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := attr.FindSubmatch(b)
		require.NotNil(t, m, "next=%s: %s", tt.raw, b)
		require.Equal(t, tt.want, html.UnescapeString(string(m[1])), "next=%s", tt.raw)
	}
}
