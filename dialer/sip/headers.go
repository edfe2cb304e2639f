package sip

import (
	"fmt"
	"strings"

	"github.com/pacer-dialer/pacer/dialer"
)

// sipgo writes header values as they are given and checks nothing
// (advisory GHSA-chcx-pf5f-wxc7): a CR or LF in a caller ID would let the
// caller add headers, or a whole second message, to our INVITE. Every value
// that goes into a header passes headerSafe before a request is built.

// headerSafe refuses CR, LF, NUL and other control characters (a TAB is
// legal folding whitespace but no value of ours needs one).
func headerSafe(what, v string) error {
	if i := strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
		return fmt.Errorf("%w: %s %q has a control character (byte %d) that would break the SIP header", dialer.ErrBadControl, what, v, i)
	}
	return nil
}

// userPartSafe is headerSafe plus what may not stand unescaped in a SIP URI's
// user part: a number or caller ID goes there.
func userPartSafe(what, v string) error {
	if err := headerSafe(what, v); err != nil {
		return err
	}
	if v == "" {
		return fmt.Errorf("%w: %s is empty", dialer.ErrBadControl, what)
	}
	if i := strings.IndexAny(v, "<>@:;?\"' ,\\/[]"); i >= 0 {
		return fmt.Errorf("%w: %s %q has %q, which cannot stand in a SIP URI", dialer.ErrBadControl, what, v, v[i])
	}
	return nil
}
