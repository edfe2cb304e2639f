package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgconn"
)

// statusError is an answer with its HTTP status. It keeps the errors its
// message was made from, so the error handler can see a database error
// behind a message and keep its details out of the answer.
type statusError struct {
	fe     *fiber.Error
	causes []error
	// field names the input the answer is about (a campaign setting's
	// key), so a form can show the message beside it.
	field string
}

func (e *statusError) Error() string { return e.fe.Message }

func (e *statusError) Unwrap() []error { return append([]error{e.fe}, e.causes...) }

// apiError is an error with the HTTP status it answers with.
func apiError(code int, format string, args ...any) error {
	e := &statusError{fe: fiber.NewError(code, fmt.Sprintf(format, args...))}
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.causes = append(e.causes, err)
		}
	}
	return e
}

// fieldError is apiError about one input field: the answer's body names it
// in "field".
func fieldError(code int, field, format string, args ...any) error {
	err := apiError(code, format, args...)
	err.(*statusError).field = field
	return err
}

// The request id ties an answer to the log lines about it: every response
// carries it in X-Request-Id, and error bodies in "request_id".
const (
	headerRequestID = "X-Request-Id"
	localRequestID  = "request_id"
)

// A proxy's request id is kept when it is a plain token; anything else
// could forge or garble log lines.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,64}$`)

// requestID names the request: a trusted proxy's X-Request-Id, or a new one.
func (s *Server) requestID(c *fiber.Ctx) error {
	id := c.Get(headerRequestID)
	if id == "" || !requestIDPattern.MatchString(id) || !s.trustedProxy(peerAddr(c)) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Locals(localRequestID, id)
	c.Set(headerRequestID, id)
	return c.Next()
}

func requestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// errorHandler answers every error as {"error", "request_id"}, with
// "field" when the error is about one input field (fieldError). A database
// error is answered in words (a duplicate, a value out of range, the
// database busy) and its SQLSTATE, constraint and detail go to the log
// under the request id; any other 5xx is "internal error" to the client.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	code, msg := fiber.StatusInternalServerError, "internal error"
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code, msg = fe.Code, fe.Message
	}
	id := requestIDOf(c)
	if id == "" { // the request failed before the middleware ran
		id = "-"
	}
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		code, msg = dbAnswer(pe)
		level := s.log.Warn
		if code >= 500 {
			level = s.log.Error
		}
		level("request refused by the database", "request_id", id, "method", c.Method(), "path", c.Path(),
			"status", code, "sqlstate", pe.Code, "constraint", pe.ConstraintName, "table", pe.TableName,
			"detail", pe.Detail, "err", err)
	case code >= 500:
		s.log.Error("request failed", "request_id", id, "method", c.Method(), "path", c.Path(), "status", code, "err", err)
		msg = "internal error"
	}
	body := fiber.Map{"error": msg, "request_id": id}
	var se *statusError
	if errors.As(err, &se) && se.field != "" {
		body["field"] = se.field
	}
	return c.Status(code).JSON(body)
}

// things names the tables a client may hit a rule of, for messages.
var things = map[string]string{
	"campaigns": "campaign", "users": "user", "dispositions": "disposition", "lead_lists": "lead list",
	"leads": "lead", "callbacks": "callback", "dnc_numbers": "do-not-call entry",
}

// constraintAnswers explain the rules a user most often meets in their terms.
var constraintAnswers = map[string]string{
	"users_display_name_check": "a display name may be at most 100 characters",
}

// dbAnswer is the status and message for a database error, without its
// SQLSTATE or constraint names.
func dbAnswer(pe *pgconn.PgError) (int, string) {
	thing := things[pe.TableName]
	if thing == "" {
		thing = "record"
	}
	code := fiber.StatusBadRequest
	switch {
	case pe.Code == "23505":
		code = fiber.StatusConflict
	case pe.Code == "23503":
		code = fiber.StatusConflict
	case strings.HasPrefix(pe.Code, "23"), strings.HasPrefix(pe.Code, "22"):
	case pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03" || pe.Code == "57014" ||
		strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "53") || strings.HasPrefix(pe.Code, "57P"):
		return fiber.StatusServiceUnavailable, "the database is busy or unavailable; try again"
	default:
		return fiber.StatusInternalServerError, "internal error"
	}
	if msg, ok := constraintAnswers[pe.ConstraintName]; ok {
		return code, msg
	}
	switch pe.Code {
	case "23505":
		return code, "a " + thing + " like that already exists"
	case "23503":
		return code, "the " + thing + " refers to something that does not exist, or something still refers to it"
	case "23502":
		return code, "a required value of the " + thing + " is missing"
	case "23514", "23P01":
		return code, "a value is outside what a " + thing + " allows"
	case "22001":
		return code, "a value is too long"
	case "22003":
		return code, "a number is out of range"
	}
	return code, "a value is not valid"
}
