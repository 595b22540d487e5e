package service

// Admin is the setting of a service whose API has admin writes: the token
// they need (ADMIN_TOKEN), a secret, so that the printed configuration
// masks it. A service's settings embed it.
type Admin struct {
	AdminToken string `env:"ADMIN_TOKEN" secret:"true"`
}
