package web

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

//go:embed openapi.json
var openAPIDoc []byte

// openAPI serves the API's OpenAPI 3.1 document.
func (s *Server) openAPI(c *fiber.Ctx) error {
	c.Type("json")
	return c.Send(openAPIDoc)
}
