package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strings"
)

// The chart is drawn with the standard library only; text uses the tiny
// 5×7 bitmap font below (upper case, digits, a little punctuation).

type series struct {
	key       string // target, or the store for jwtrevoke
	label     string
	color     color.RGBA
	colorName string
}

var storeColors = map[string]struct {
	c    color.RGBA
	name string
}{
	"sqlite":   {color.RGBA{0x1f, 0x77, 0xb4, 0xff}, "blue"},
	"postgres": {color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, "green"},
	"redis":    {color.RGBA{0xd6, 0x27, 0x28, 0xff}, "red"},
	"mysql":    {color.RGBA{0x94, 0x67, 0xbd, 0xff}, "purple"},
	"mongo":    {color.RGBA{0x8c, 0x56, 0x4b, 0xff}, "brown"},
	"memory":   {color.RGBA{0x17, 0xbe, 0xcf, 0xff}, "cyan"},
}

// chartScenarios are the throughput scenarios (propagation, flush and
// memory measure something else).
var chartScenarios = []string{"me", "refresh", "login", "rotate", "logout"}

// seedColors are the seed's bars, by database configuration.
var seedColors = map[string]struct {
	c    color.RGBA
	name string
}{
	"sqlite":           {color.RGBA{0xff, 0x7f, 0x0e, 0xff}, "orange"},
	"postgres":         {color.RGBA{0xbc, 0xbd, 0x22, 0xff}, "olive"},
	"postgres-persist": {color.RGBA{0xe3, 0x77, 0xc2, 0xff}, "pink"},
}

func charted(r row) bool {
	return !r.Latency && r.RPS > 0 && contains(chartScenarios, r.Scenario)
}

func seriesKey(r row) string {
	switch r.Target {
	case targetJwtrevoke:
		return r.Store
	case targetSeed:
		return r.Target + "/" + r.Store
	}
	return r.Target
}

// chartSeries lists the bars of each group, in order: the baseline, the
// seed, then jwtrevoke on each store.
func chartSeries(rows []row) []series {
	var out []series
	seen := map[string]bool{}
	add := func(s series) {
		if !seen[s.key] {
			seen[s.key] = true
			out = append(out, s)
		}
	}
	for _, t := range []string{targetBaseline, targetSeed} {
		for _, r := range rows {
			if r.Target == t && charted(r) {
				switch t {
				case targetBaseline:
					add(series{t, "bare net/http", color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, "grey"})
				case targetSeed:
					sc, ok := seedColors[r.Store]
					if !ok {
						sc.c, sc.name = color.RGBA{0xff, 0x7f, 0x0e, 0xff}, "orange"
					}
					add(series{seriesKey(r), "seed Django+SimpleJWT " + r.Store, sc.c, sc.name})
				}
			}
		}
	}
	for _, r := range rows {
		if r.Target == targetJwtrevoke && charted(r) {
			sc, ok := storeColors[r.Store]
			if !ok {
				sc.c, sc.name = color.RGBA{0, 0, 0, 0xff}, "black"
			}
			add(series{r.Store, "jwtrevoke " + r.Store, sc.c, sc.name})
		}
	}
	return out
}

const (
	barW     = 44
	barGap   = 6
	groupGap = 40
	left     = 80
	right    = 20
	plotH    = 360
)

func writeChart(path string, rows []row) error {
	img := drawChart(rows)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func drawChart(rows []row) *image.RGBA {
	ser := chartSeries(rows)
	type bar struct {
		s series
		v float64
	}
	var groups []string
	bars := map[string][]bar{}
	for _, sc := range chartScenarios {
		for _, s := range ser {
			for _, r := range rows {
				if r.Scenario == sc && charted(r) && seriesKey(r) == s.key {
					if len(bars[sc]) == 0 {
						groups = append(groups, sc)
					}
					bars[sc] = append(bars[sc], bar{s, r.RPS})
					break
				}
			}
		}
	}
	plotW := 0
	for _, g := range groups {
		plotW += len(bars[g])*(barW+barGap) - barGap + groupGap
	}
	plotW = max(plotW+groupGap, 400)
	width := left + plotW + right

	// Legend rows, wrapped to the width.
	const scale = 2
	type item struct {
		s    series
		x, y int
	}
	var items []item
	x, y := left, 44
	for _, s := range ser {
		w := 14 + 6 + textWidth(s.label, scale) + 24
		if x+w > width-right && x > left {
			x, y = left, y+22
		}
		items = append(items, item{s, x, y})
		x += w
	}
	top := y + 40
	height := top + plotH + 50
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	black := color.RGBA{0, 0, 0, 0xff}
	grid := color.RGBA{0xdd, 0xdd, 0xdd, 0xff}

	drawText(img, left, 12, "REQUESTS/S, LOG SCALE", scale, black)
	for _, it := range items {
		fill(img, it.x, it.y, 14, 14, it.s.color)
		drawText(img, it.x+20, it.y, it.s.label, scale, black)
	}

	lo, hi := 1e18, 0.0
	for _, g := range groups {
		for _, b := range bars[g] {
			lo, hi = math.Min(lo, b.v), math.Max(hi, b.v)
		}
	}
	if len(groups) == 0 {
		drawText(img, left, top+plotH/2, "NO THROUGHPUT RESULTS", scale, black)
		return img
	}
	elo := math.Floor(math.Log10(math.Max(lo, 1)))
	ehi := math.Ceil(math.Log10(hi))
	if ehi <= elo {
		ehi = elo + 1
	}
	bottom := top + plotH
	yOf := func(v float64) int {
		f := (math.Log10(math.Max(v, 1)) - elo) / (ehi - elo)
		return bottom - int(math.Round(f*plotH))
	}
	for e := elo; e <= ehi; e++ {
		yy := yOf(math.Pow(10, e))
		fill(img, left, yy, plotW, 1, grid)
		lbl := shortNum(math.Pow(10, e))
		drawText(img, left-8-textWidth(lbl, scale), yy-7, lbl, scale, black)
	}
	fill(img, left, top, 1, plotH+1, black)
	fill(img, left, bottom, plotW, 1, black)

	gx := left + groupGap
	for _, g := range groups {
		bs := bars[g]
		gw := len(bs)*(barW+barGap) - barGap
		for i, b := range bs {
			bx := gx + i*(barW+barGap)
			by := yOf(b.v)
			fill(img, bx, by, barW, bottom-by, b.s.color)
			lbl := shortNum(b.v)
			drawText(img, bx+(barW-textWidth(lbl, 1))/2, by-10, lbl, 1, black)
		}
		name := strings.ToUpper(g)
		drawText(img, gx+(gw-textWidth(name, scale))/2, bottom+12, name, scale, black)
		gx += gw + groupGap
	}
	return img
}

// shortNum prints 37512 as 37.5K, 850 as 850, 1e6 as 1M.
func shortNum(v float64) string {
	f := func(x float64, suffix string) string {
		s := fmt.Sprintf("%.3g", x)
		if strings.Contains(s, "e") {
			s = fmt.Sprintf("%.0f", x)
		}
		return s + suffix
	}
	switch {
	case v >= 1e6:
		return f(v/1e6, "M")
	case v >= 1e3:
		return f(v/1e3, "K")
	default:
		return f(v, "")
	}
}

func fill(img *image.RGBA, x, y, w, h int, c color.Color) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), image.NewUniform(c), image.Point{}, draw.Src)
}

func textWidth(s string, scale int) int {
	if s == "" {
		return 0
	}
	return (len([]rune(s))*6 - 1) * scale
}

// drawText writes s at (x, y), its top left corner, in the 5×7 font.
func drawText(img *image.RGBA, x, y int, s string, scale int, c color.Color) {
	for _, r := range strings.ToUpper(s) {
		g, ok := font5x7[r]
		if !ok {
			g = font5x7['?']
		}
		for row, line := range g {
			for col, px := range line {
				if px == '#' {
					fill(img, x+col*scale, y+row*scale, scale, scale, c)
				}
			}
		}
		x += 6 * scale
	}
}

// font5x7 is a 5×7 bitmap font: '#' is ink.
var font5x7 = map[rune][7]string{
	'A': {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'B': {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."},
	'C': {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."},
	'D': {"####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."},
	'E': {"#####", "#....", "#....", "####.", "#....", "#....", "#####"},
	'F': {"#####", "#....", "#....", "####.", "#....", "#....", "#...."},
	'G': {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"},
	'H': {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'I': {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'J': {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."},
	'K': {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"},
	'L': {"#....", "#....", "#....", "#....", "#....", "#....", "#####"},
	'M': {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"},
	'N': {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"},
	'O': {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'P': {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."},
	'Q': {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"},
	'R': {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"},
	'S': {".####", "#....", "#....", ".###.", "....#", "....#", "####."},
	'T': {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."},
	'U': {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'V': {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."},
	'W': {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."},
	'X': {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"},
	'Y': {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."},
	'Z': {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"},
	'0': {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."},
	'1': {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'2': {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"},
	'3': {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."},
	'4': {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."},
	'5': {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."},
	'6': {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."},
	'7': {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."},
	'8': {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."},
	'9': {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."},
	' ': {".....", ".....", ".....", ".....", ".....", ".....", "....."},
	'.': {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."},
	',': {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."},
	':': {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."},
	'/': {"....#", "....#", "...#.", "..#..", ".#...", "#....", "#...."},
	'-': {".....", ".....", ".....", "#####", ".....", ".....", "....."},
	'+': {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."},
	'=': {".....", ".....", "#####", ".....", "#####", ".....", "....."},
	'(': {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."},
	')': {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."},
	'%': {"##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##"},
	'?': {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."},
}
