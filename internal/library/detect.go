package library

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
)

// Type is the kind of a file, as found in its content.
type Type string

// The types of file the library holds.
const (
	PDF      Type = "pdf"
	DOCX     Type = "docx"
	XLSX     Type = "xlsx"
	HTML     Type = "html"
	Markdown Type = "markdown"
)

// Types lists every type, in the order pages name them.
func Types() []Type { return []Type{PDF, DOCX, XLSX, HTML, Markdown} }

// ParseType returns the type named s (as stored), or false.
func ParseType(s string) (Type, bool) {
	for _, t := range Types() {
		if string(t) == s {
			return t, true
		}
	}
	return "", false
}

// MediaType is the Content-Type a file of the type is served with.
func (t Type) MediaType() string {
	switch t {
	case PDF:
		return "application/pdf"
	case DOCX:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case HTML:
		return "text/html; charset=utf-8"
	case Markdown:
		return "text/markdown; charset=utf-8"
	}
	return "application/octet-stream"
}

// Label names the type for people, such as "Word document".
func (t Type) Label() string {
	switch t {
	case PDF:
		return "PDF"
	case DOCX:
		return "Word document"
	case XLSX:
		return "Excel spreadsheet"
	case HTML:
		return "Web page (HTML)"
	case Markdown:
		return "Markdown text"
	}
	return string(t)
}

// Extensions are the endings a file name of the type may have, in lower
// case, the usual one first.
func (t Type) Extensions() []string {
	switch t {
	case PDF:
		return []string{".pdf"}
	case DOCX:
		return []string{".docx"}
	case XLSX:
		return []string{".xlsx"}
	case HTML:
		return []string{".html", ".htm"}
	case Markdown:
		return []string{".md", ".markdown"}
	}
	return nil
}

// Download reports whether a browser should save files of the type
// rather than show them: Word and Excel files, which it cannot show.
func (t Type) Download() bool { return t == DOCX || t == XLSX }

// notAllowed is what Detect says about content of no type it knows.
const notAllowed = "The file must be a PDF, a Word document (.docx), an Excel spreadsheet (.xlsx), a web page (.html) or Markdown text (.md)"

// Detect finds the type of a file from its content alone, never its name:
//
//   - PDF: starts with "%PDF-";
//   - DOCX and XLSX: a ZIP archive holding [Content_Types].xml whose main
//     part is a Word document (in word/) or an Excel workbook (in xl/);
//     archives with macros, templates and every other kind are refused;
//   - HTML: UTF-8 text without NUL bytes that starts, after any blank space
//     and comments, with <!DOCTYPE html>, <html>, <head> or <body>;
//   - Markdown: any other UTF-8 text without NUL bytes.
//
// The error, when there is one, is Invalid, with a sentence to show the
// uploader.
func Detect(content []byte) (Type, error) {
	switch {
	case len(content) == 0:
		return "", invalid("The file is empty")
	case bytes.HasPrefix(content, []byte("%PDF-")):
		return PDF, nil
	case bytes.HasPrefix(content, []byte("PK\x03\x04")):
		return detectOffice(content)
	}
	text := bytes.TrimPrefix(content, []byte("\xef\xbb\xbf")) // a byte order mark
	if !utf8.Valid(text) || bytes.IndexByte(text, 0) >= 0 {
		return "", invalid(notAllowed)
	}
	if looksLikeHTML(text) {
		return HTML, nil
	}
	return Markdown, nil
}

// looksLikeHTML reports whether text starts, after blank space and
// comments, with the start of an HTML document.
func looksLikeHTML(text []byte) bool {
	for {
		text = bytes.TrimLeft(text, " \t\r\n\f")
		rest, ok := bytes.CutPrefix(text, []byte("<!--"))
		if !ok {
			break
		}
		_, after, ok := bytes.Cut(rest, []byte("-->"))
		if !ok {
			return false
		}
		text = after
	}
	for _, start := range []string{"<!doctype html", "<html", "<head", "<body"} {
		if len(text) <= len(start) || !strings.EqualFold(string(text[:len(start)]), start) {
			continue
		}
		// The name must end there: "<htmlx" is not "<html".
		switch text[len(start)] {
		case '>', ' ', '\t', '\r', '\n', '\f', '/':
			return true
		}
	}
	return false
}

// maxContentTypesBytes bounds how much of [Content_Types].xml is read: a
// real one is a few kilobytes, and the rest of an archive is never
// decompressed, so a ZIP bomb costs nothing.
const maxContentTypesBytes = 1 << 20

// The content types of the main part of the Office files allowed.
const (
	wordMain  = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
	excelMain = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
)

// contentTypes is the part of [Content_Types].xml that says what each
// part of an Office file is.
type contentTypes struct {
	Defaults []struct {
		Extension   string `xml:"Extension,attr"`
		ContentType string `xml:"ContentType,attr"`
	} `xml:"Default"`
	Overrides []struct {
		PartName    string `xml:"PartName,attr"`
		ContentType string `xml:"ContentType,attr"`
	} `xml:"Override"`
}

// detectOffice tells a Word document or an Excel workbook from every other
// ZIP archive, refusing those that carry macros.
func detectOffice(content []byte) (Type, error) {
	zr, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return "", invalid("The file looks like a ZIP archive but cannot be read: it may be damaged. " + notAllowed)
	}
	names := map[string]*zip.File{}
	hasWord, hasExcel := false, false
	for _, f := range zr.File {
		name := strings.ToLower(strings.TrimPrefix(f.Name, "/"))
		names[name] = f
		if strings.HasSuffix(name, "vbaproject.bin") || strings.HasSuffix(name, "vbadata.xml") {
			return "", invalid(macroMessage)
		}
		hasWord = hasWord || strings.HasPrefix(name, "word/")
		hasExcel = hasExcel || strings.HasPrefix(name, "xl/")
	}
	f := names["[content_types].xml"]
	if f == nil {
		return "", invalid("The file is a ZIP archive, not a Word document or an Excel spreadsheet. " + notAllowed)
	}
	rc, err := f.Open()
	if err != nil {
		return "", invalid("The file cannot be read: it may be damaged")
	}
	defer rc.Close()
	var ct contentTypes
	if err := xml.NewDecoder(io.LimitReader(rc, maxContentTypesBytes)).Decode(&ct); err != nil {
		return "", invalid("The file cannot be read: it may be damaged")
	}
	var main []string
	for _, d := range ct.Defaults {
		if macroType(d.ContentType) {
			return "", invalid(macroMessage)
		}
	}
	for _, o := range ct.Overrides {
		if macroType(o.ContentType) {
			return "", invalid(macroMessage)
		}
		if o.ContentType == wordMain || o.ContentType == excelMain {
			main = append(main, o.ContentType)
			// The main part must be in the archive, where its type says.
			part := strings.ToLower(strings.TrimPrefix(path.Clean("/"+o.PartName), "/"))
			dir := "word/"
			if o.ContentType == excelMain {
				dir = "xl/"
			}
			if names[part] == nil || !strings.HasPrefix(part, dir) {
				return "", invalid("The file cannot be read: it may be damaged")
			}
		}
	}
	switch {
	case len(main) == 1 && main[0] == wordMain && hasWord && !hasExcel:
		return DOCX, nil
	case len(main) == 1 && main[0] == excelMain && hasExcel && !hasWord:
		return XLSX, nil
	}
	return "", invalid("The file is an Office file of a kind the library does not take, such as a template or a presentation. " + notAllowed)
}

// macroMessage refuses a file with macros.
const macroMessage = "The file contains macros, which the library does not take. Save it without macros, as .docx or .xlsx, and upload that"

// macroType reports whether an Office content type is one that carries
// macros or the code of them.
func macroType(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.Contains(ct, "macroenabled") || strings.Contains(ct, "vbaproject") || strings.Contains(ct, "ms-office.activex")
}

// fileExtension is the ending of a file name, in lower case.
func fileExtension(name string) string { return strings.ToLower(path.Ext(name)) }

// invalid is the error of a file that is not allowed.
func invalid(message string) error { return apperr.New(apperr.Invalid, message) }
