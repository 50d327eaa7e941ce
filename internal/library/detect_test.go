package library

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
)

// officeFile builds a ZIP archive holding the named parts; the content of
// [Content_Types].xml is given whole.
func officeFile(t testing.TB, contentTypes string, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := append([]string{"[Content_Types].xml"}, parts...)
	for _, name := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		body := "<x/>"
		if name == "[Content_Types].xml" {
			body = contentTypes
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// typesXML is a [Content_Types].xml with one override per pair of part
// name and content type.
func typesXML(pairs ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>`)
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString(`<Override PartName="` + pairs[i] + `" ContentType="` + pairs[i+1] + `"/>`)
	}
	b.WriteString(`</Types>`)
	return b.String()
}

// Sample files of each type, as the tests of this package and the web
// package's build them.
func sampleDOCX(t testing.TB) []byte {
	return officeFile(t, typesXML("/word/document.xml", wordMain), "_rels/.rels", "word/document.xml")
}

func sampleXLSX(t testing.TB) []byte {
	return officeFile(t, typesXML("/xl/workbook.xml", excelMain), "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml")
}

func TestTheTypeIsFoundInTheContent(t *testing.T) {
	cases := []struct {
		name    string
		content []byte
		want    Type
		problem string // part of the message when refused
	}{
		{"a PDF", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n"), PDF, ""},
		{"a Word document", sampleDOCX(t), DOCX, ""},
		{"an Excel workbook", sampleXLSX(t), XLSX, ""},
		{"an HTML page", []byte("<!DOCTYPE html>\n<html lang=\"en\"><title>Guidance</title>"), HTML, ""},
		{"HTML after a byte order mark, blank lines and a comment", []byte("\xef\xbb\xbf\n\n<!-- made by hand -->\n<HTML>"), HTML, ""},
		{"an HTML fragment starting with body", []byte("<body><p>Hi</p></body>"), HTML, ""},
		{"Markdown", []byte("# Reporting guidance\n\nRecord what happened, not who.\n"), Markdown, ""},
		{"Markdown holding some HTML", []byte("Some text\n\n<div>boxed</div>\n"), Markdown, ""},
		{"text starting with a tag that is not a document", []byte("<htmlish> is not a tag we know"), Markdown, ""},
		{"an unclosed comment", []byte("<!-- never closed <html>"), Markdown, ""},
		{"nothing", nil, "", "empty"},
		{"a PNG image", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "", "must be a PDF"},
		{"text with a NUL byte", []byte("hello\x00world"), "", "must be a PDF"},
		{"Latin-1 text", []byte("caf\xe9"), "", "must be a PDF"},
		{"a plain ZIP archive", plainZip(t), "", "ZIP archive, not a Word"},
		{"a damaged ZIP archive", []byte("PK\x03\x04 and then nothing"), "", "damaged"},
		{"a macro-enabled Word document", officeFile(t, typesXML("/word/document.xml",
			"application/vnd.ms-word.document.macroEnabled.main+xml"), "word/document.xml"), "", "macros"},
		{"a Word document carrying a VBA project", officeFile(t, typesXML("/word/document.xml", wordMain),
			"word/document.xml", "word/vbaProject.bin"), "", "macros"},
		{"a macro-enabled workbook", officeFile(t, typesXML("/xl/workbook.xml",
			"application/vnd.ms-excel.sheet.macroEnabled.main+xml"), "xl/workbook.xml"), "", "macros"},
		{"a Word template", officeFile(t, typesXML("/word/document.xml",
			"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"), "word/document.xml"), "", "template"},
		{"a presentation", officeFile(t, typesXML("/ppt/presentation.xml",
			"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"), "ppt/presentation.xml"), "", "presentation"},
		{"a Word type naming a part that is missing", officeFile(t, typesXML("/word/document.xml", wordMain), "word/other.xml"), "", "damaged"},
		{"a Word type naming a part outside word/", officeFile(t, typesXML("/xl/workbook.xml", wordMain), "xl/workbook.xml"), "", "damaged"},
		{"both a Word and an Excel main part", officeFile(t, typesXML("/word/document.xml", wordMain, "/xl/workbook.xml", excelMain),
			"word/document.xml", "xl/workbook.xml"), "", "does not take"},
		{"a Word document with a spreadsheet inside", officeFile(t, typesXML("/word/document.xml", wordMain),
			"word/document.xml", "xl/workbook.xml"), "", "does not take"},
		{"broken content types", officeFile(t, "<Types><Override", "word/document.xml"), "", "damaged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Detect(c.content)
			if c.problem == "" {
				if err != nil || got != c.want {
					t.Fatalf("Detect = %q, %v; want %q", got, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(apperr.MessageOf(err), c.problem) || apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("Detect = %q, %v; want a refusal saying %q", got, err, c.problem)
			}
		})
	}
}

func plainZip(t testing.TB) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("notes.txt")
	w.Write([]byte("hello"))
	zw.Close()
	return buf.Bytes()
}

// FuzzDetect checks that any content gets a type or an Invalid refusal,
// never a panic, and that what Detect says holds: text types are valid
// UTF-8 without NUL bytes, a PDF starts as one, and an Office type is a
// ZIP archive.
func FuzzDetect(f *testing.F) {
	f.Add([]byte("%PDF-1.4"))
	f.Add(sampleDOCX(f))
	f.Add(sampleXLSX(f))
	f.Add([]byte("<!doctype html><p>x"))
	f.Add([]byte("<!-- a --><!-- b --><body>"))
	f.Add([]byte("# Title\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Add(plainZip(f))
	f.Fuzz(func(t *testing.T, content []byte) {
		got, err := Detect(content)
		if err != nil {
			if got != "" || apperr.CodeOf(err) != apperr.Invalid || apperr.MessageOf(err) == "" {
				t.Fatalf("Detect = %q, %v", got, err)
			}
			return
		}
		switch got {
		case PDF:
			if !bytes.HasPrefix(content, []byte("%PDF-")) {
				t.Fatal("a PDF that does not start as one")
			}
		case DOCX, XLSX:
			if !bytes.HasPrefix(content, []byte("PK\x03\x04")) {
				t.Fatal("an Office file that is not a ZIP archive")
			}
		case HTML, Markdown:
			if !utf8.Valid(content) || bytes.IndexByte(content, 0) >= 0 {
				t.Fatal("text that is not UTF-8 without NUL bytes")
			}
		default:
			t.Fatalf("unknown type %q", got)
		}
	})
}
