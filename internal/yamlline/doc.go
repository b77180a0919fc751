// Package yamlline finds the line a YAML syntax error is on. The YAML
// parsers report the line where the enclosing block began (an indentation
// error on line 4 of a mapping that starts on line 1 is "line 1"); Find
// looks for the first line whose inclusion makes the text fail. It keeps
// nothing and needs nothing but the text and a parse function.
package yamlline
