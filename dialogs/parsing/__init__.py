"""Pure parsers of user answers: text, amounts (万元), periods and indicator values.

No I/O here. Each parser returns a typed value or raises `ParseError(code, params)`; the caller
adds the `field` and `example` parameters and turns it into a `Problem`.
"""
