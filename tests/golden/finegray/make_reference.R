# Reference values for sirtstats.survival.finegray (issue #16 item 6): the Fine-Gray weighted
# data set of survival::finegray() and coxph() on it, plus cmprsk::crr and the cause-specific
# Cox for comparison. Run: Rscript make_reference.R (in this directory). CI never runs R.
library(survival)
library(cmprsk)
set.seed(166)
n <- 90
x <- rbinom(n, 1, 0.5)
z <- round(rnorm(n), 2)
t1 <- rexp(n, 0.04 * exp(0.6 * x + 0.3 * z))       # progression
t2 <- rexp(n, 0.04 * exp(-0.3 * x))                # death without progression
t3 <- ifelse(runif(n) < 0.25, rexp(n, 0.05), Inf)  # transplant / resection
cens <- runif(n, 3, 30)
time <- pmin(t1, t2, t3, cens)
status <- ifelse(time == t1, 1, ifelse(time == t2, 2, ifelse(time == t3, 3, 0)))
time <- round(time, 0) + 1                         # whole days: ties, also across causes
d <- data.frame(id = seq_len(n), time, status, x, z)
write.csv(d, "cr_data.csv", row.names = FALSE)
d$cause <- factor(d$status, 0:3, c("censor", "progression", "death", "transplant"))
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)

fg <- finegray(Surv(time, cause) ~ ., data = d[, c("id", "time", "cause", "x", "z")],
               etype = "progression")
write.csv(fg[, c("id", "fgstart", "fgstop", "fgstatus", "fgwt")], "fg_data_reference.csv",
          row.names = FALSE)
fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x + z, data = fg, weights = fgwt, control = ctl)
fitr <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x + z + cluster(id), data = fg,
              weights = fgwt, control = ctl)
cs <- coxph(Surv(time, status == 1) ~ x + z, data = d, control = ctl)
cr <- crr(d$time, d$status, cbind(x = d$x, z = d$z), failcode = 1, cencode = 0)
write.csv(data.frame(term = c("x", "z"), coef = coef(fit), se_model = sqrt(diag(fit$naive.var)),
                     se_robust_rows = sqrt(diag(fit$var)),
                     se_robust = sqrt(diag(fitr$var)),
                     cs_coef = coef(cs), cs_se = sqrt(diag(cs$var)),
                     crr_coef = unname(cr$coef), crr_se = sqrt(diag(cr$var))),
          "fg_cox_reference.csv", row.names = FALSE)

# death as the event of interest (progression and transplant competing)
fg2 <- finegray(Surv(time, cause) ~ ., data = d[, c("id", "time", "cause", "x", "z")],
                etype = "death")
fit2 <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x, data = fg2, weights = fgwt, control = ctl)
fit2r <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x + cluster(id), data = fg2, weights = fgwt,
               control = ctl)
write.csv(data.frame(term = "x", coef = coef(fit2), se_model = sqrt(diag(fit2$naive.var)),
                     se_robust_rows = sqrt(diag(fit2$var)), se_robust = sqrt(diag(fit2r$var)),
                     nrow = nrow(fg2)),
          "fg_death_reference.csv", row.names = FALSE)
writeLines(paste("survival", packageVersion("survival"), "cmprsk", packageVersion("cmprsk"),
                 R.version.string), "versions.txt")
