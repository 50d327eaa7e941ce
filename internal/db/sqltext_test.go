package db_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func TestValues(t *testing.T) {
	cases := []struct {
		rows, perRow, first int
		lead, want          string
	}{
		{0, 3, 1, "", ""},
		{1, 1, 1, "", "($1)"},
		{2, 3, 1, "", "($1, $2, $3), ($4, $5, $6)"},
		{2, 2, 2, "$1, ", "($1, $2, $3), ($1, $4, $5)"},
		{3, 1, 4, "$1, 1, '', ", "($1, 1, '', $4), ($1, 1, '', $5), ($1, 1, '', $6)"},
		{1, 4, 1, "", "($1, $2, $3, $4)"},
		{1, 0, 1, "TRUE", "(TRUE)"},
	}
	for _, c := range cases {
		if got := db.Values(c.rows, c.perRow, c.first, c.lead); got != c.want {
			t.Errorf("Values(%d, %d, %d, %q) = %q, want %q", c.rows, c.perRow, c.first, c.lead, got, c.want)
		}
	}
}

func TestEscapeLike(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"St Mary's", "St Mary's"},
		{"100%", `100\%`},
		{"a_b", `a\_b`},
		{`C:\x`, `C:\\x`},
		{`%_\`, `\%\_\\`},
		{"Zoë_\xff", "Zoë\\_\xff"},
	}
	for _, c := range cases {
		if got := db.EscapeLike(c.in); got != c.want {
			t.Errorf("EscapeLike(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNullID(t *testing.T) {
	if got := db.NullID(0); got.Valid {
		t.Errorf("NullID(0) = %+v, want NULL", got)
	}
	if got := db.NullID(42); got != (sql.NullInt64{Int64: 42, Valid: true}) {
		t.Errorf("NullID(42) = %+v", got)
	}
}

// TestValuesAndEscapeLikeOnEveryEngine writes rows with one multi-row
// INSERT made by Values, sharing a leading value, and finds them with
// patterns EscapeLike made, so % and _ match only themselves.
func TestValuesAndEscapeLikeOnEveryEngine(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if e := d.Dialect().Engine; e != db.SQLite && e != db.PostgreSQL {
			t.Fatalf("engine %v", e)
		}
		names := []string{"100% Care", "100 Care", "A_B Surgery", "AxB Surgery", `Back\slash`, `Backslash`}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			args := []any{tx.Now}
			for i, n := range names {
				args = append(args, string(rune('A'+i))+"01", n)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO organisations (created_at, updated_at, ods_code, name) VALUES `+
				db.Values(len(names), 2, 2, "$1, $1, "), args...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		find := func(query string) []string {
			t.Helper()
			rows, err := d.QueryContext(ctx, `SELECT name FROM organisations WHERE name `+d.Dialect().ILike+` $1 ESCAPE '\' ORDER BY name`,
				"%"+db.EscapeLike(query)+"%")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				out = append(out, n)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}
		for q, want := range map[string][]string{
			"0% c":    {"100% Care"},
			"a_b":     {"A_B Surgery"},
			`k\s`:     {`Back\slash`},
			"surgery": {"A_B Surgery", "AxB Surgery"},
		} {
			if got := find(q); !slices.Equal(got, want) {
				t.Errorf("%q found %q, want %q", q, got, want)
			}
		}
		var at time.Time
		if err := d.QueryRowContext(ctx, `SELECT updated_at FROM organisations WHERE ods_code = 'F01'`).Scan(&at); err != nil || at.IsZero() {
			t.Errorf("the shared value was not written: %v, %v", at, err)
		}
	})
}
