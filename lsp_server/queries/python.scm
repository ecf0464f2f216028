; Regions for Python. Capture names are shared by every language (see README.md).

; A definition is captured once: with its decorators when it has any.
(module (function_definition) @function)
(block (function_definition) @function)
(ERROR (function_definition) @function)
(decorated_definition definition: (function_definition)) @function
(function_definition body: (block) @function.body)

(module (class_definition) @class)
(block (class_definition) @class)
(ERROR (class_definition) @class)
(decorated_definition definition: (class_definition)) @class
(class_definition body: (block) @class.body)

; A docstring is the string expression that opens a body.
(function_definition
  body: (block . (expression_statement (string)) @docstring))
(class_definition
  body: (block . (expression_statement (string)) @docstring))

[
  (expression_statement)
  (return_statement)
  (pass_statement)
  (raise_statement)
  (assert_statement)
  (delete_statement)
  (break_statement)
  (continue_statement)
  (global_statement)
  (nonlocal_statement)
  (import_statement)
  (import_from_statement)
  (future_import_statement)
  (type_alias_statement)
  (if_statement)
  (for_statement)
  (while_statement)
  (try_statement)
  (with_statement)
  (match_statement)
] @statement

(block) @block

; Any comment (the fix never picks a line that holds only prose).
(comment) @comment
