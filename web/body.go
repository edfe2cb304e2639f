package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// decodeBody reads a JSON request body into v strictly: a field of the
// wrong type (a bool or number where text is expected), a field v does not
// have, or anything after the JSON value is a 400 that names the field or
// the place. Lenient decoding would act on what the client did not mean:
// {"name": true} would make a campaign called "true".
func decodeBody(c *fiber.Ctx, v any) error {
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationJSON) {
		return apiError(fiber.StatusUnsupportedMediaType, "send the body as application/json")
	}
	if err := strictJSON(c.Body(), v); err != nil {
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	return nil
}

// strictJSON is encoding/json with no unknown fields and nothing after the
// value; its errors name the field or offset in the client's terms. It is
// also the app's JSONDecoder, so a BodyParser is as strict.
func strictJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Errorf("field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Errorf("the body must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("the body is not valid JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the body is cut short: the JSON value does not end")
	case err != nil:
		// encoding/json says "json: unknown field \"x\"" without a type.
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("the body has more after its JSON value (at byte %d)", dec.InputOffset())
	}
	return nil
}

// jsonKind names a Go kind as the JSON a client should send.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice" || kind == "array":
		return "an array"
	case kind == "struct" || kind == "map":
		return "an object"
	}
	return "a " + kind
}
