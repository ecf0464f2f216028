; Regions for Go.

[
  (function_declaration)
  (method_declaration)
] @function
(function_declaration body: (block) @function.body)
(method_declaration body: (block) @function.body)

(type_declaration
  (type_spec type: [(struct_type) (interface_type)])) @class
(type_declaration
  (type_spec type: (struct_type (field_declaration_list) @class.body)))
(type_declaration
  (type_spec type: (interface_type) @class.body))

; A doc comment is the run of `//` lines right before a declaration.
((comment)+ @docstring
  .
  [
    (function_declaration)
    (method_declaration)
    (type_declaration)
    (const_declaration)
    (var_declaration)
  ])

(statement_list (_statement) @statement)

(block) @block

; Any comment (the fix never picks a line that holds only prose).
(comment) @comment
