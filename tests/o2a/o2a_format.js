// Obsidian_to_Anki 3.6's FormatConverter.format (src/format.ts) for a field with no vault links,
// embeds or code blocks: its math rewrite and censoring, CurlyCloze (and highlights to clozes),
// `==x==` as <mark>, showdown with the plugin's options, the math put back HTML-escaped, and its
// outer <p> rule. Written for the parity test from the plugin's published source; reads a JSON
// list on stdin, each a markdown string or {text, cloze, highlights}, and prints the HTML list.
const fs = require("fs");
const showdown = require(process.argv[2]);

const converter = new showdown.Converter({
  simplifiedAutoLink: true, literalMidWordUnderscores: true, tables: true, tasklists: true,
  simpleLineBreaks: true, requireSpaceBeforeHeadingText: true,
});
const INLINE_MATH = /(?<!\$)\$((?=[\S])(?=[^$])[\s\S]*?\S)\$/g;
const DISPLAY_MATH = /\$\$([\s\S]*?)\$\$/g;
const ANKI_MATH = /(\\\[[\s\S]*?\\\])|(\\\([\s\S]*?\\\))/g;
const INLINE_CODE = /(?<!`)`(?=[^`])[\s\S]*?`/g;
const HIGHLIGHT = /==(.*?)==/g;
const CLOZE = /(?:(?<!{){(?:c?(\d+)[:|])?(?!{))((?:[^\n][\n]?)+?)(?:(?<!})}(?!}))/g;

function curlyToCloze(text) {
  let unset = 1;
  return text.replace(CLOZE, (_, id, body) => `{{c${id === undefined ? unset++ : id}::${body}}}`);
}

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#039;");
}

function censor(text, regexp, mask) {
  const found = [...text.matchAll(regexp)].map((m) => m[0]);
  return [text.replace(regexp, mask), found];
}

function decensor(text, mask, found, escape) {
  for (const piece of found) text = text.replace(mask, escape ? escapeHtml(piece) : piece);
  return text;
}

function format(field) {
  let text = typeof field === "string" ? field : field.text;
  text = text.replace(DISPLAY_MATH, "\\[$1\\]").replace(INLINE_MATH, "\\($1\\)");
  let math, code;
  [text, math] = censor(text, ANKI_MATH, "OBSTOANKIMATH");
  [text, code] = censor(text, INLINE_CODE, "OBSTOANKICODEINLINE");
  if (field.cloze) {
    if (field.highlights) text = text.replace(HIGHLIGHT, "{$1}");
    text = curlyToCloze(text);
  }
  text = text.replace(HIGHLIGHT, "<mark>$1</mark>");
  text = decensor(text, "OBSTOANKICODEINLINE", code, false);
  text = converter.makeHtml(text);
  text = decensor(text, "OBSTOANKIMATH", math, true).trim();
  if (text.startsWith("<p>") && text.endsWith("</p>")) text = text.slice(3, -4);
  return text;
}

const fields = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(fields.map(format)));
