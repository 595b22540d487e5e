package config

import (
	"strings"
	"testing"
)

func TestRedactDSNMasksEveryForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"url", "postgres://u:secret@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"url without password", "postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable"},
		{"query password", "postgres://u@h/db?sslmode=disable&password=secret",
			"postgres://u@h/db?sslmode=disable&password=xxxxx"},
		{"query sslpassword", "postgres://h/db?sslpassword=secret&password=secret2",
			"postgres://h/db?sslpassword=xxxxx&password=xxxxx"},
		{"escaped query key", "postgres://h/db?pass%77ord=secret", "postgres://h/db?pass%77ord=xxxxx"},
		{"unparsable url", "postgres://u:secret@h:5432/d%zz?password=secret2",
			"postgres://u:xxxxx@h:5432/d%zz?password=xxxxx"},
		{"unparsable url with @ in password", "postgres://u:se@cr%et@h/db", "postgres://u:xxxxx@h/db"},
		{"unparsable url with ? in password", "postgres://u:se?cret@h/db", "postgres://u:xxxxx@h/db"},
		{"key value", "host=h user=u password=secret dbname=db", "host=h user=u password=xxxxx dbname=db"},
		{"key value spaced", "host = h password = secret sslpassword=secret2",
			"host = h password = xxxxx sslpassword=xxxxx"},
		{"key value quoted", `host=h password='sec ret \' still' dbname=db`, "host=h password=xxxxx dbname=db"},
		{"key value escaped", `password=sec\ ret dbname=db`, "password=xxxxx dbname=db"},
		{"key value unterminated", `dbname=db password='secret`, "dbname=db password=xxxxx"},
		{"key value upper case", "PASSWORD=secret", "PASSWORD=xxxxx"},
		{"malformed key value", "= password =secret", "= password =xxxxx"},
		{"plain", "EUR", "EUR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := redactDSN(tc.in)
			if got != tc.want {
				t.Errorf("redactDSN(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if strings.Contains(got, "secret") || strings.Contains(got, "cret") {
				t.Errorf("redactDSN(%q) = %q leaks the password", tc.in, got)
			}
		})
	}
}
