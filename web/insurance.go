package web

import "github.com/gofiber/fiber/v2"

// insuranceRoutes registers the insurance pages and JSON API (placeholder: being built).
func (a *App) insuranceRoutes(f *fiber.App, api fiber.Router) {}
