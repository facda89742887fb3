"""The evaluation report of a contract's mid-term or final evaluation: a page, its JSON, a PDF and a
workbook, public once the evaluation is decided."""
