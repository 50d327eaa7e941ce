package csvsafe

import "testing"

func TestCell(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"", ""},
		{"Ward 3", "Ward 3"},
		{"a=b", "a=b"},
		{"3-4", "3-4"},
		{"'quoted", "'quoted"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "'+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		{"＝1+1", "'＝1+1"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{" =1+1", "' =1+1"},
		{"  @x", "'  @x"},
		{"\n-1", "'\n-1"},
		{"\u00a0=1", "'\u00a0=1"},
		{"\u3000＝1", "'\u3000＝1"},
		{" \tx", "' \tx"},
		{"   ", "   "},
		{" Ward", " Ward"},
		{"\xff=", "\xff="},
	}
	for _, c := range cases {
		if got := Cell(c.in); got != c.want {
			t.Errorf("Cell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
