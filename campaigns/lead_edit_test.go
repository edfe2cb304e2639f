package campaigns

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// A lead edit is outside input (PATCH /agent/lead): whatever field name and
// value arrive, check either refuses them or they are a field an agent may
// edit, with a one-line value of at most 200 characters, and a name the
// lead_edits table's CHECK accepts.
func FuzzLeadChangeCheck(f *testing.F) {
	for _, s := range [][2]string{{"first_name", "Ann"}, {"email", "a@example.com"}, {"email", "Ann <a@example.com>"},
		{"phone", "+12025550100"}, {"custom.plan", "gold"}, {"custom.", "x"}, {"custom. x", "y"}, {"city", "a\nb"},
		{"custom.Plan Type!", "x"}, {"custom.é", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, field, value string) {
		err := LeadChange{Fields: map[string]string{field: value}}.check()
		if err != nil {
			require.ErrorIs(t, err, ErrInputInvalid)
			return
		}
		require.True(t, utf8.ValidString(value))
		require.LessOrEqual(t, utf8.RuneCountInString(value), maxLeadField)
		require.False(t, strings.ContainsAny(value, "\r\n\t\x00"))
		if key, ok := strings.CutPrefix(field, "custom."); ok {
			require.True(t, customKeyOK(key))
			require.NotContains(t, key, "\x00")
			return
		}
		require.Contains(t, EditableLeadFields, field)
	})
}
