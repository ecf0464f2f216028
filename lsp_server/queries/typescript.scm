; inherits: javascript
; Regions for TypeScript and TSX, on top of javascript.scm.

(abstract_class_declaration) @class
(abstract_class_declaration body: (class_body) @class.body)
(interface_declaration) @class
(interface_declaration body: (interface_body) @class.body)

((comment)+ @docstring
  .
  [
    (abstract_class_declaration)
    (interface_declaration)
    (type_alias_declaration)
  ])
