// Package sdc is statistical disclosure control for the official
// statistics (issue 15, T16): the rules NHS England applies to published
// counts, and a differencing checker that proves no suppressed count can
// be worked out from the published table.
//
// # The rules
//
// National figures (Exact) are published as they are. Below national level
// (Protected) a count of 0 is shown as "0"; a count from Low to High
// (default 1 to 7) is suppressed and shown as the Symbol (default "*");
// any other count is rounded to the nearest Round (default 5), halves
// rounded up: 8 and 12 show as 10, 13 as 15, 1234 as 1235. Totals are
// figures too: each is rounded from its own unrounded value, never summed
// from rounded parts, so a published total need not equal the sum of its
// published parts. Validate refuses rules that would mislead, such as a
// rounding that shows a small count as 0.
//
// # The attacker
//
// The checker takes the place of someone who has the published tables,
// knows the rules and the relations between the figures (a total is the
// sum of its row, a national figure the sum of the organisations), and
// wants a suppressed count. From the published figures alone they know:
//
//   - an exact figure is that number;
//   - a figure shown as 0 is 0 (rounding never shows a positive count as 0);
//   - a figure shown as a rounded number R is one of the counts that round
//     to R and that the rules would show, not suppress: with the default
//     rules, from R-2 to R+2 and never 1 to 7;
//   - a figure shown as the symbol is any count the symbol can stand for in
//     that table (Result.SymbolRange), the same for every symbol, since
//     the publication does not say which symbols are secondary. With no
//     secondary suppression that is Low to High. Secondary suppression can
//     hide a zero (then the range starts at 0) or a count above High (then
//     it has no upper end). The publication's guidance must say so in
//     words: for example "* stands for a count from 1 to 7", or "* stands
//     for a count from 1 to 7, or for another count hidden so that a small
//     count cannot be worked out".
//
// Every published sum is an equation. The checker also forms new
// equations by adding or subtracting two that share a figure, whenever the
// result still has coefficients of +1 and -1 only: that is differencing
// two sums (a total over five organisations minus a total over four of
// them), and chaining two tables through a shared total. It then narrows
// each figure's range from each equation in turn (a figure is the rest of
// its equation, so its range is bounded by theirs) until nothing changes.
// Each step is sound: the true value always stays inside the range, which
// the tests and a fuzz target assert. A suppressed figure whose range
// ends with fewer than MinRange possible values (default 2) is a
// disclosure.
//
// Interval reasoning alone loses what several equations say together
// (three suppressed figures tied by three sums in a triangle, or a figure
// that must be odd). So the checker then probes each suppressed figure's
// range: it assumes the figure takes the value at one end, propagates, and
// when some figure is left with no possible value, that end is impossible
// and moves in. A test attacks small protected tables exhaustively (every
// combination of values the published figures allow) and finds nothing
// the checker missed; before probing, interval reasoning missed 44
// figures in 1,639 tables.
//
// The checker is still not a full integer programme over all the
// equations at once, and a probe proves an end impossible only within a
// bounded amount of work. To keep it fast on large tables it also derives
// at most a few rounds of equations, a bounded number of them, and leaves
// out sums that repeat a figure. Each limit makes it weaker, never wrong.
//
// # Secondary suppression
//
// Protect applies the rules and checks. For each disclosure it suppresses
// one more figure: in the equation that narrowed the disclosed figure,
// the smallest protected figure still shown, counts above 0 before zeros.
// Suppressing a figure in the very sum that gives the disclosure away
// widens the attacker's difference by that figure's whole range; the
// smallest figure is the one whose loss costs the readers least; zeros
// come last because a hidden zero makes every symbol in the table mean
// "0 or more", but they are used when a sum has nothing else left (a
// national figure whose other organisations all had none). Then it checks
// again, until the table is safe. Exact figures are never suppressed, so
// a table whose disclosing sums have nothing else to hide cannot be
// protected: Protect returns a *ProtectError naming the figures, and the
// publication must change its tables (for example merge categories).
//
// MinRange means: after all the differencing above, an attacker is still
// left with at least MinRange possible counts for every suppressed figure.
// The default, 2, is the test: no suppressed count can be worked
// out exactly. A stricter 3 also refuses ranges such as "0 or 1", which
// is what hiding a single national event among organisations' zeros
// leaves; with it, any national count of 1 broken down by organisation
// cannot be published, so small services could publish almost nothing.
// Operators who want it set --stats-min-range 3.
package sdc
