package web

import (
	"context"

	"github.com/gofiber/fiber/v2"
)

// healthz answers while the process is up; it checks nothing else, so an
// orchestrator restarts only a process that is truly wedged.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz runs every readiness check and answers 503 with the first failure's
// reason, so a load balancer stops sending work to a node that cannot do it.
func (s *Server) readyz(c *fiber.Ctx) error {
	for _, chk := range s.checks {
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.CheckTimeout)
		err := chk.Func(ctx)
		cancel()
		if err != nil {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{
				"status": "unavailable",
				"check":  chk.Name,
				"reason": err.Error(),
			})
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
