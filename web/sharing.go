package web

import "github.com/gofiber/fiber/v2"

// sharingRoutes registers the sharing pages and JSON API (placeholder: being built).
func (a *App) sharingRoutes(f *fiber.App, api fiber.Router) {}
