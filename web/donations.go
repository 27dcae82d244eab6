package web

import "github.com/gofiber/fiber/v2"

// donationRoutes registers the donations pages and JSON API (placeholder: being built).
func (a *App) donationRoutes(f *fiber.App, api fiber.Router) {}
