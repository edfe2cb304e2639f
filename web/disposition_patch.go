package web

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
)

// dispositionPatch reads a disposition PUT body: only the fields present
// change. recycle_after_s null clears the recycle time; null for any other
// field, an unknown field, a code other than the URL's or system true is
// refused with a 400 that names it.
func dispositionPatch(body []byte, code string) (campaigns.DispositionPatch, error) {
	var p campaigns.DispositionPatch
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return p, apiError(fiber.StatusBadRequest, "body must be a JSON object of disposition fields")
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := fields[k]
		null := bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
		if null && k != "recycle_after_s" {
			return p, apiError(fiber.StatusBadRequest, "%s cannot be null: leave it out to keep it", k)
		}
		var err error
		switch k {
		case "label":
			p.Label = new(string)
			err = json.Unmarshal(raw, p.Label)
		case "category":
			p.Category = new(campaigns.Category)
			err = json.Unmarshal(raw, p.Category)
		case "final":
			p.Final = new(bool)
			err = json.Unmarshal(raw, p.Final)
		case "recycle_after_s":
			p.RecycleAfterS = new(int)
			if !null {
				err = json.Unmarshal(raw, p.RecycleAfterS)
			}
		case "schedules_callback":
			p.SchedulesCallback = new(bool)
			err = json.Unmarshal(raw, p.SchedulesCallback)
		case "code":
			// A client may send back the disposition it read.
			var c string
			if err = json.Unmarshal(raw, &c); err == nil && strings.ToUpper(strings.TrimSpace(c)) != code {
				return p, apiError(fiber.StatusBadRequest, "code %q in the body is not the URL's %s", c, code)
			}
		case "system":
			var sys bool
			if err = json.Unmarshal(raw, &sys); err == nil && sys {
				return p, apiError(fiber.StatusBadRequest, "system is the engine's: only engine codes are system dispositions")
			}
		default:
			return p, apiError(fiber.StatusBadRequest, "unknown disposition field %q", k)
		}
		if err != nil {
			return p, apiError(fiber.StatusBadRequest, "%s: wrong type", k)
		}
	}
	return p, nil
}
