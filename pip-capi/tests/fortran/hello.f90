! A Fortran program built with pipfc: a PiP root on its own, or a task under pip-exec.
! A module variable (a static of the program) counts the calls: each task has its own copy,
! so every run prints "count 1".
module counter
  implicit none
  integer :: calls = 0
end module counter

program hello
  use counter
  implicit none
  calls = calls + 1
  print '(a,i0)', 'fortran: ok, count ', calls
end program hello
