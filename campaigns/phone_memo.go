package campaigns

import (
	"regexp/syntax"
	"sync"
	"sync/atomic"
	"unicode"
)

// NANP validity is memoised by the number's first few digits. That is exact,
// not a guess: nanpPrefixDigits proves from the metadata's patterns that
// whether a 10-digit national number is valid depends on no digit past the
// first k (every pattern is "some prefix, then any digits"), and the memo is
// used only when it could prove that for a k of at most 7. A million-row
// import then runs the patterns once per distinct prefix rather than once
// per row.
var nanpMemo struct {
	once  sync.Once
	k     int
	cells []atomic.Uint32 // 16 two-bit cells per word: 0 unknown, 1 valid, 2 invalid
}

func nanpValidMemo(national string) bool {
	nanpMemo.once.Do(func() {
		nanpOnce.Do(loadNANP)
		k := nanpPrefixDigits()
		if k < 0 || k > 7 {
			return
		}
		n := 1
		for range k {
			n *= 10
		}
		nanpMemo.k = k
		nanpMemo.cells = make([]atomic.Uint32, (n+15)/16)
	})
	if nanpMemo.cells == nil {
		return nanpValid(national)
	}
	key := 0
	for i := range nanpMemo.k {
		key = key*10 + int(national[i]-'0')
	}
	word, shift := &nanpMemo.cells[key/16], uint(key%16)*2
	switch (word.Load() >> shift) & 3 {
	case 1:
		return true
	case 2:
		return false
	}
	valid := nanpValid(national)
	cell := uint32(2)
	if valid {
		cell = 1
	}
	word.Or(cell << shift)
	return valid
}

// nanpPrefixDigits returns k such that every pattern nanpValid consults
// decides a 10-digit number by its first k digits, or -1 if that cannot be
// shown.
func nanpPrefixDigits() int {
	k := 0
	for _, r := range nanpRegions {
		if r.leading != nil {
			// Matched as a prefix: it reads at most its longest match.
			_, hi, ok := lengthRange(parse(r.leading.String()))
			if !ok || hi < 0 {
				return -1
			}
			k = max(k, hi)
		}
		for _, d := range append([]numberDesc{r.general}, r.typeDescs...) {
			if d.re == nil {
				continue
			}
			n := decidingPrefix(parse(d.re.String()))
			if n < 0 {
				return -1
			}
			k = max(k, n)
		}
	}
	return k
}

func parse(expr string) *syntax.Regexp {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return re
}

// decidingPrefix returns d such that, for every length, whether a digit
// string of that length matches re depends only on its first d characters
// (re being built of "constrained part, then any digits", at any depth);
// -1 if it cannot show that.
func decidingPrefix(re *syntax.Regexp) int {
	if re == nil {
		return -1
	}
	switch re.Op {
	case syntax.OpCapture:
		return decidingPrefix(re.Sub[0])
	case syntax.OpAlternate:
		k := 0
		for _, sub := range re.Sub {
			n := decidingPrefix(sub)
			if n < 0 {
				return -1
			}
			k = max(k, n)
		}
		return k
	case syntax.OpConcat:
		subs := re.Sub
		// Anchors read nothing.
		for len(subs) > 0 && isAnchor(subs[len(subs)-1]) {
			subs = subs[:len(subs)-1]
		}
		for len(subs) > 0 && isAnchor(subs[0]) {
			subs = subs[1:]
		}
		end := len(subs)
		for end > 0 && anyDigits(subs[end-1]) {
			end--
		}
		if end == 0 {
			return 0
		}
		// The parts before the last constrained one are bounded by their
		// longest match; that one may itself end in free digits inside.
		k := decidingPrefix(subs[end-1])
		if k < 0 {
			return -1
		}
		for _, sub := range subs[:end-1] {
			_, hi, ok := lengthRange(sub)
			if !ok || hi < 0 {
				return -1
			}
			k += hi
		}
		return k
	default:
		if anyDigits(re) {
			return 0
		}
		_, hi, ok := lengthRange(re)
		if !ok || hi < 0 {
			return -1
		}
		return hi
	}
}

func isAnchor(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpEmptyMatch:
		return true
	}
	return false
}

// anyDigits reports whether re matches every string of digits of the
// lengths it accepts: a run of classes that contain 0-9.
func anyDigits(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpCharClass:
		for d := '0'; d <= '9'; d++ {
			if !classHas(re.Rune, d) {
				return false
			}
		}
		return true
	case syntax.OpCapture, syntax.OpRepeat, syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		return anyDigits(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !anyDigits(sub) {
				return false
			}
		}
		return true
	}
	return false
}

func classHas(ranges []rune, r rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= r && r <= ranges[i+1] {
			return true
		}
	}
	return false
}

// lengthRange returns the shortest and longest match of re (hi -1: no
// bound); ok is false for constructs it does not know.
func lengthRange(re *syntax.Regexp) (lo, hi int, ok bool) {
	if re == nil {
		return 0, 0, false
	}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, 0, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			for _, r := range re.Rune {
				if unicode.SimpleFold(r) != r {
					return 0, 0, false
				}
			}
		}
		return len(re.Rune), len(re.Rune), true
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 1, true
	case syntax.OpCapture:
		return lengthRange(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			l, h, ok := lengthRange(sub)
			if !ok {
				return 0, 0, false
			}
			lo += l
			if hi >= 0 {
				if h < 0 {
					hi = -1
				} else {
					hi += h
				}
			}
		}
		return lo, hi, true
	case syntax.OpAlternate:
		lo = -1
		for _, sub := range re.Sub {
			l, h, ok := lengthRange(sub)
			if !ok {
				return 0, 0, false
			}
			if lo < 0 || l < lo {
				lo = l
			}
			if hi >= 0 && (h < 0 || h > hi) {
				hi = h
			}
		}
		return max(lo, 0), hi, true
	case syntax.OpQuest, syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		l, h, ok := lengthRange(re.Sub[0])
		if !ok {
			return 0, 0, false
		}
		mn, mx := 0, 1
		switch re.Op {
		case syntax.OpStar:
			mx = -1
		case syntax.OpPlus:
			mn, mx = 1, -1
		case syntax.OpRepeat:
			mn, mx = re.Min, re.Max
		}
		lo = l * mn
		if mx < 0 || h < 0 {
			return lo, -1, true
		}
		return lo, h * mx, true
	}
	return 0, 0, false
}
